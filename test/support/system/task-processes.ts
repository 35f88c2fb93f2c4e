// The task processes ecs-local started for this run, found in /proc by a marker in
// their environment (ecs-local passes an image's `env` to its containers): the
// run's id and which ecs-local start launched them. A process of an earlier
// ecs-local start that is still alive outlived its ecs-local (an orphan): it keeps
// its address and port, and a new task given that address cannot bind it.
import { readdirSync, readFileSync } from 'node:fs';

export const RUN_VAR = 'BERTH_HEAL_RUN';
export const START_VAR = 'BERTH_HEAL_ECS_START';

export interface TaskProcess {
  pid: number;
  /** Which ecs-local start launched it (1, 2, ...). */
  ecsStart: number;
  /** `HOST:PORT` it was told to listen on. */
  address: string;
}

function environ(pid: number): Map<string, string> | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/environ`, 'latin1');
    const env = new Map<string, string>();
    for (const kv of raw.split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return env;
  } catch {
    return undefined; // gone, or not ours to read
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Live processes carrying this run's marker. */
export function taskProcesses(runId: string): TaskProcess[] {
  const found: TaskProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = environ(pid);
    if (env?.get(RUN_VAR) !== runId || isZombie(pid)) continue;
    found.push({
      pid,
      ecsStart: Number(env.get(START_VAR)),
      address: `${env.get('HOST')}:${env.get('PORT')}`,
    });
  }
  return found;
}

/** SIGKILLs every process of this run (cleanup; each pid was found by its marker). */
export function killTaskProcesses(runId: string): number {
  const all = taskProcesses(runId);
  for (const p of all) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return all.length;
}
