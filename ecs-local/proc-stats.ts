// Real CPU and memory figures for a process tree, read from /proc (Linux), in
// the units Docker's stats API uses (nanoseconds of CPU, bytes of memory).
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

// USER_HZ is 100 on every Linux we run on; /proc reports CPU time in these ticks.
const NS_PER_TICK = 1e9 / 100;
const PAGE_SIZE = 4096;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  cpuTicks: number;
  rssPages: number;
  threads: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(f[1]),
      cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      threads: Number(f[17]),
      rssPages: Number(f[21]),
    };
  } catch {
    return undefined; // gone between listing and reading
  }
}

/** The process and all its descendants, found through /proc's parent links. */
export function processTree(rootPid: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of all) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const root = all.find((s) => s.pid === rootPid);
  if (!root) return [];
  const out: ProcStat[] = [];
  const queue = [root];
  while (queue.length) {
    const s = queue.shift()!;
    out.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

export interface TreeUsage {
  cpuNs: number;
  memoryBytes: number;
  processes: number;
  threads: number;
}

export function treeUsage(rootPid: number): TreeUsage {
  const tree = processTree(rootPid);
  return {
    cpuNs: tree.reduce((a, s) => a + s.cpuTicks, 0) * NS_PER_TICK,
    memoryBytes: tree.reduce((a, s) => a + s.rssPages, 0) * PAGE_SIZE,
    processes: tree.length,
    threads: tree.reduce((a, s) => a + s.threads, 0),
  };
}

/** Host CPU time so far (all CPUs), as Docker's system_cpu_usage. */
export function systemCpuNs(): number {
  const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = first
    .trim()
    .split(/\s+/)
    .slice(1, 8)
    .reduce((a, v) => a + Number(v), 0);
  return ticks * NS_PER_TICK;
}

export function onlineCpus(): number {
  return availableParallelism();
}
