// CPU accounting and CPU pinning for the proxy benchmarks (Linux /proc and
// util-linux `taskset`). CPU time per request is the figure that moves least
// on a shared VM: req/s swings with the host's load, the work a request costs
// much less.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** [ppid, utime + stime in ticks] of a process, or undefined once it is gone. */
function statOf(pid: number): [number, number] | undefined {
  try {
    // The command name (field 2) may hold spaces; the fields after it do not.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [Number(fields[1]), Number(fields[11]) + Number(fields[12])];
  } catch {
    return undefined;
  }
}

/** `pid` and every process below it (a cluster's workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const stat = statOf(child);
    if (!stat) continue;
    const list = children.get(stat[0]) ?? [];
    list.push(child);
    children.set(stat[0], list);
  }
  const tree: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    tree.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return tree;
}

/** CPU seconds (user + system) used so far by the given processes. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += statOf(pid)?.[1] ?? 0;
  return ticks / clockTicks;
}

/** Whether processes can be pinned here: Linux with taskset and at least two CPUs. */
export function canPin(cpus: number): boolean {
  return cpus >= 2 && spawnSync('taskset', ['-V']).error === undefined;
}

/** `command` (argv) to run on CPU `cpu` ("0") when given, else as it is. */
export function onCpu(command: string[], cpu?: string): string[] {
  return cpu === undefined ? command : ['taskset', '-c', cpu, ...command];
}

/** Restricts every thread of `pid` and of the processes below it to `cpuList` ("0", "1-3"). */
export function pinTree(pid: number, cpuList: string): void {
  for (const p of processTree(pid)) {
    const r = spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(p)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`taskset ${cpuList} ${p} failed: ${r.stderr.trim()}`);
  }
}
