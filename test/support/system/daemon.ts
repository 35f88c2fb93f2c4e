// One berth daemon (`bin/berth api|controller|proxy|ecs-local`) as a child process,
// as an operator runs it: its output goes to a log file of its own (one per start,
// so a killed process's last lines are kept), and the harness can wait for a line,
// kill it with any signal and start it again with the same settings. An exit the
// harness did not ask for is counted: the daemon died on its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BERTH = join(ROOT, 'bin', 'berth.ts');

export interface DaemonOptions {
  /** Names the log files: `<logDir>/<name>-<start>.log`. */
  name: string;
  /** `bin/berth` arguments, e.g. `['controller']`. */
  args: string[];
  env: Record<string, string>;
  logDir: string;
  /** A line (stdout or stderr) that says the daemon is serving. */
  ready: RegExp;
  /** How long start() waits for `ready` (60 s: a loaded 2-core machine starts a daemon in 20-30 s). */
  startTimeoutMs?: number;
  /** Runs before every start (e.g. to rewrite a file the daemon reads). */
  beforeStart?: () => void;
}

export interface UnexpectedExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  log: string;
}

export class Daemon {
  readonly name: string;
  private readonly options: DaemonOptions;
  private child: ChildProcess | undefined;
  private starts = 0;
  /** Children the harness is stopping: their exit is expected. */
  private readonly stopping = new WeakSet<ChildProcess>();
  /** Log files of every start, oldest first. */
  readonly logFiles: string[] = [];
  /** Exits nobody asked for (a crash). */
  readonly unexpectedExits: UnexpectedExit[] = [];

  constructor(options: DaemonOptions) {
    this.name = options.name;
    this.options = options;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Starts the process and resolves once it printed its ready line. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts += 1;
    this.options.beforeStart?.();
    const file = join(this.options.logDir, `${this.name}-${this.starts}.log`);
    this.logFiles.push(file);
    const log = createWriteStream(file);
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', BERTH, ...this.options.args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    let seen = '';
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name} did not start within ${timeoutMs} ms; see ${file}`)),
        timeoutMs,
      );
      const onData = (d: Buffer) => {
        log.write(d);
        if (seen !== 'done') {
          seen += String(d);
          if (this.options.ready.test(seen)) {
            seen = 'done';
            clearTimeout(timer);
            resolve();
          } else if (seen.length > 1_000_000) seen = seen.slice(-10_000);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`${this.name} exited (${code ?? signal}) before it was ready; see ${file}`),
        );
      });
    });
    child.once('exit', (code, signal) => {
      log.end();
      if (this.child === child && !this.stopping.has(child)) {
        this.unexpectedExits.push({ name: this.name, code, signal, log: file });
      }
    });
    await ready;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` if it is still there). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.stopping.add(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** stop(signal), then start() with the same settings. */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  /** The current (or last) log file's text. */
  currentLog(): string {
    const file = this.logFiles.at(-1);
    return file ? readFileSync(file, 'utf8') : '';
  }
}
