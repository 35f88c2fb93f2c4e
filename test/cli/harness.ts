// Runs bin/berth.ts as a child process against an API started in this process,
// with its own config file, so each CLI test sees exactly what a person would.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
}

export function runBerth(args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', join(ROOT, 'bin', 'berth.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, BERTH_DEBUG: '', ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 0), stdout, stderr }),
    );
    child.stdin.end(opts.stdin ?? '');
  });
}

export interface Running {
  /** Resolves once stdout matches. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<Run>;
}

/** Starts a long-running command (`get -w`) whose output the test follows. */
export function startBerth(args: string[], opts: RunOptions = {}): Running {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(ROOT, 'bin', 'berth.ts'), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, BERTH_DEBUG: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d) => {
    stdout += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const closed = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 0), stdout, stderr }),
    ),
  );
  return {
    async waitForStdout(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`stdout never matched ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`);
        }
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
      return stdout;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return closed;
    },
  };
}
