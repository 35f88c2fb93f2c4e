// The tiny stand-in tool (fixtures/tiny-http.c) compiled once per content into
// the temp folder, and an ecs-local image map entry for it. Falls back to a
// Node server (40 MB each instead of 1 MB) when no C compiler is installed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const source = join(import.meta.dirname, 'fixtures', 'tiny-http.c');
const nodeFallback = join(import.meta.dirname, '..', 'ecs-local', 'fixtures', 'serve.mjs');

export const TINY_IMAGE = 'berth/tiny:latest';
/**
 * The tiny tool standing in for the gate (set as the reconcilers' gateImage):
 * it admits everything. Only for tests that run dozens of tasks at once, where
 * a Node gate per task (~95 MB) would not fit the machine; the gate itself is
 * tested in test/security/tool-gate.test.ts and the demo tests.
 */
export const GATE_STUB_IMAGE = 'berth/gate-stub:latest';

/** Path of the compiled binary, or undefined when there is no compiler. */
export function tinyBinary(): string | undefined {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const out = join(tmpdir(), `berth-tiny-http-${hash}`);
  if (existsSync(out)) return out;
  try {
    const tmp = `${out}.${process.pid}`;
    execFileSync('cc', ['-O2', '-o', tmp, source], { stdio: 'pipe' });
    renameSync(tmp, out);
    return out;
  } catch {
    return undefined;
  }
}

/** ecs-local image map entries: the tiny tool (also as the gate stub), a container that never listens, one that exits 3. */
export function testImages(): Record<string, { command: string | string[]; args?: string[] }> {
  const bin = tinyBinary();
  const tiny = bin ? { command: bin } : { command: process.execPath, args: [nodeFallback] };
  return {
    [TINY_IMAGE]: tiny,
    [GATE_STUB_IMAGE]: tiny,
    'berth/silent:latest': { command: 'sleep', args: ['600'] },
    'berth/exit3:latest': { command: 'sh', args: ['-c', 'exit 3'] },
  };
}
