// Real CPU, memory and storage figures for a process tree, read from /proc
// (Linux), in the units Docker's stats API uses (nanoseconds of CPU, bytes of
// memory and I/O); and the loopback interface's counters.
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

/** Every process's /proc/<pid>/stat, read once: several trees can be found in it. */
export function processTable(): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  return all;
}

/** The process and all its descendants, found through /proc's parent links. */
export function processTree(rootPid: number, all: ProcStat[] = processTable()): ProcStat[] {
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

/**
 * Bytes a process made the storage layer fetch and send (/proc/<pid>/io
 * read_bytes, write_bytes), its reaped children's included as cutime is for CPU.
 * Undefined where the kernel does not let us read it.
 */
function readIo(pid: number): { read: number; write: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return { read: field('read_bytes'), write: field('write_bytes') };
  } catch {
    return undefined;
  }
}

export interface TreeUsage {
  cpuNs: number;
  memoryBytes: number;
  processes: number;
  threads: number;
  /** Storage bytes read and written by the tree's processes (/proc/<pid>/io). */
  readBytes: number;
  writeBytes: number;
}

export function treeUsage(rootPid: number, all?: ProcStat[]): TreeUsage {
  const tree = processTree(rootPid, all);
  let readBytes = 0;
  let writeBytes = 0;
  for (const s of tree) {
    const io = readIo(s.pid);
    readBytes += io?.read ?? 0;
    writeBytes += io?.write ?? 0;
  }
  return {
    cpuNs: tree.reduce((a, s) => a + s.cpuTicks, 0) * NS_PER_TICK,
    memoryBytes: tree.reduce((a, s) => a + s.rssPages, 0) * PAGE_SIZE,
    processes: tree.length,
    threads: tree.reduce((a, s) => a + s.threads, 0),
    readBytes,
    writeBytes,
  };
}

export interface InterfaceCounters {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/**
 * The loopback interface's counters from /proc/net/dev (Docker's `networks`
 * shape). Task processes share ecs-local's network namespace, so these count
 * every task's loopback traffic, not one task's.
 */
export function loopbackCounters(): InterfaceCounters | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/dev', 'utf8');
  } catch {
    return undefined;
  }
  const row = /^\s*lo:\s*(.*)$/m.exec(text);
  if (!row) return undefined;
  const f = row[1]!.trim().split(/\s+/).map(Number);
  return {
    rx_bytes: f[0]!,
    rx_packets: f[1]!,
    rx_errors: f[2]!,
    rx_dropped: f[3]!,
    tx_bytes: f[8]!,
    tx_packets: f[9]!,
    tx_errors: f[10]!,
    tx_dropped: f[11]!,
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
