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

/** ecs-local image map entries: the tiny tool, a container that never listens, one that exits 3. */
export function testImages(): Record<string, { command: string | string[]; args?: string[] }> {
  const bin = tinyBinary();
  return {
    [TINY_IMAGE]: bin ? { command: bin } : { command: process.execPath, args: [nodeFallback] },
    'berth/silent:latest': { command: 'sleep', args: ['600'] },
    'berth/exit3:latest': { command: 'sh', args: ['-c', 'exit 3'] },
  };
}
