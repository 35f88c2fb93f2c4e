// Task processes must die with ecs-local however it dies (SIGKILL, a crash, the
// OOM killer), or a tool left over from an earlier run keeps its address and
// answers as the next one. Node cannot set PR_SET_PDEATHSIG on its children, so
// a tiny shell process holds the other end of a pipe: ecs-local writes the
// process group of each container as it starts ("+ <pgid>") and as it ends
// ("- <pgid>"); when the pipe closes (ecs-local exited, cleanly or not) the
// shell SIGKILLs every group still listed, then exits.
import { type ChildProcess, spawn } from 'node:child_process';

// POSIX sh (dash on Debian): no bash-isms. `groups` is " 12 34 " (space-delimited).
const GUARD_SCRIPT = `
groups=' '
while read -r op id; do
  case "$op" in
    +) groups="$groups$id " ;;
    -) case "$groups" in *" $id "*) groups="\${groups%% $id *} \${groups#* $id }" ;; esac ;;
  esac
done
for id in $groups; do kill -s KILL -- "-$id" 2>/dev/null; done
`;

export class OrphanGuard {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private closed = false;

  constructor() {
    this.child = spawn('/bin/sh', ['-c', GUARD_SCRIPT], {
      // Its own session: a terminal's Ctrl-C or hangup reaches ecs-local, not its guard.
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // The guard must never keep ecs-local's process alive, nor crash it.
    this.child.unref();
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.once('error', () => resolve());
    });
    const stdin = this.child.stdin!;
    stdin.on('error', () => {});
    (stdin as unknown as { unref?: () => void }).unref?.();
  }

  /** The guard's own pid (tests check that it goes when ecs-local does). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** From now on, the group `pgid` dies with ecs-local. */
  watch(pgid: number): void {
    this.send(`+ ${pgid}\n`);
  }

  /** The group `pgid` is gone: forget it, so a recycled id is never killed. */
  forget(pgid: number): void {
    this.send(`- ${pgid}\n`);
  }

  /** Clean stop (every container already stopped): the guard exits with nothing to kill. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.child.stdin?.end();
    }
    return this.exited;
  }

  private send(line: string): void {
    if (this.closed || !this.child.stdin?.writable) return;
    this.child.stdin.write(line);
  }
}
