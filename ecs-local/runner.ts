// Runs one container as a local process in its own process group, so that
// stopping it (SIGTERM, then SIGKILL after the stop timeout, like `docker stop`)
// reaches everything it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { OutputBuffer } from './output-buffer.ts';

export interface ContainerSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  outputCapBytes: number;
  /** Where its output goes; a restarted container keeps appending to its earlier output. */
  output?: OutputBuffer | undefined;
}

export interface ContainerExit {
  /** Exit code as Docker reports it: the code, or 128 + signal number. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  /** True when SIGKILL had to be sent after the stop timeout. */
  killed: boolean;
}

export class ContainerProcess {
  readonly pid: number;
  readonly output: OutputBuffer;
  readonly exited: Promise<ContainerExit>;
  readonly startedAt = Date.now();
  exitedAt: number | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private killed = false;
  private done = false;

  private constructor(child: ChildProcess, output: OutputBuffer) {
    this.pid = child.pid!;
    this.output = output;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true;
        this.exitedAt = Date.now();
        clearTimeout(this.killTimer);
        // In a container, everything dies with PID 1; do the same for the group.
        this.signalGroup('SIGKILL');
        const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
        resolve({ exitCode, signal, killed: this.killed });
      });
    });
  }

  /** Starts the process; rejects when it cannot be started (e.g. command not found). */
  static start(spec: ContainerSpec): Promise<ContainerProcess> {
    const output = spec.output ?? new OutputBuffer(spec.outputCapBytes);
    const child = spawn(spec.command, spec.args, {
      env: spec.env,
      cwd: spec.cwd,
      detached: true, // its own process group, so we can signal the whole tree
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => output.append(c));
    child.stderr!.on('data', (c: Buffer) => output.append(c));
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(new ContainerProcess(child, output)));
      child.once('error', (err) => reject(err));
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** `docker stop`: `signal` now, SIGKILL to the group after `timeoutMs` if still alive. */
  stop(timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ContainerExit> {
    // A second stop (e.g. StopTask after a Spot notice) keeps the first deadline.
    if (this.done || this.killTimer) return this.exited;
    this.signalGroup(signal);
    this.killTimer = setTimeout(() => {
      if (this.done) return;
      this.killed = true;
      this.signalGroup('SIGKILL');
    }, timeoutMs);
    return this.exited;
  }

  /** SIGKILL now (shutdown of ecs-local itself). */
  kill(): Promise<ContainerExit> {
    if (!this.done) {
      this.killed = true;
      this.signalGroup('SIGKILL');
    }
    return this.exited;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
