// A process that started the embedded PostgreSQL and died without stopping it
// (SIGKILL, a crash, the OOM killer) leaves the postmaster running: nothing
// tells it. The next start on the same data must neither fail over it nor stop
// a PostgreSQL that a live process still uses, so the starting process is
// recorded beside the cluster, and a postmaster of this cluster whose recorded
// starter is gone is shut down before the new one starts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Identity {
  pid: number;
  /** /proc/<pid>/stat's start time: with the pid, a process's identity. */
  startTime: number;
}

function startTimeOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? undefined : Number(f[19]);
  } catch {
    return undefined;
  }
}

const ownerFile = (dataDir: string) => join(dataDir, 'started-by.json');

/** Notes that this process started the cluster in `dataDir`. */
export function recordStarter(dataDir: string): void {
  const me: Identity = { pid: process.pid, startTime: startTimeOf(process.pid) ?? 0 };
  writeFileSync(ownerFile(dataDir), `${JSON.stringify(me)}\n`);
}

function starterAlive(dataDir: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(ownerFile(dataDir), 'utf8')) as Identity;
    return startTimeOf(owner.pid) === owner.startTime;
  } catch {
    return true; // no record: assume a live owner, as before records existed
  }
}

/** The live postmaster of `clusterDir` (from postmaster.pid, checked against its command line). */
function runningPostmaster(clusterDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.includes(clusterDir)) return undefined; // a recycled pid
  } catch {
    return undefined;
  }
  return startTimeOf(pid) === undefined ? undefined : pid;
}

/**
 * Shuts down the postmaster of `clusterDir` when the process that started it is
 * gone (fast shutdown, SIGKILL after `graceMs`); true when there was one.
 */
export async function stopOrphanedPostmaster(
  dataDir: string,
  clusterDir: string,
  graceMs = 30_000,
): Promise<boolean> {
  const pid = runningPostmaster(clusterDir);
  if (pid === undefined || starterAlive(dataDir)) return false;
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown
  } catch {
    return true; // gone in the meantime
  }
  const deadline = Date.now() + graceMs;
  let killed = false;
  while (startTimeOf(pid) !== undefined) {
    if (!killed && Date.now() > deadline) {
      killed = true;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone in the meantime
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
