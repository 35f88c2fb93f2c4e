// The second belt against task processes outliving ecs-local (the first is
// orphan-guard.ts): a record per running container under
// <stateDir>/processes/, removed when its process group is gone. The next
// ecs-local to start on the same state directory kills what the records of a
// dead ecs-local name, before it runs anything. A process counts as the recorded
// one only if its start time (/proc/<pid>/stat) is the recorded one, so a
// recycled pid is never killed; several live ecs-locals may share the directory,
// as each reaps only the records of owners that are gone.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const identitySchema = z.object({ pid: z.number().int().positive(), startTime: z.number() });

const recordSchema = z.object({
  /** The ecs-local process that started it. */
  owner: identitySchema,
  /** The container's main process, leader of its own process group. */
  process: identitySchema,
  /** Marks the group's other members: their ECS_CONTAINER_METADATA_URI_V4 ends in it. */
  runtimeId: z.string().min(1),
  taskArn: z.string(),
  container: z.string(),
});

export type ProcessRecord = z.infer<typeof recordSchema>;

export interface ProcStatus {
  state: string;
  pgrp: number;
  /** Clock ticks after boot: with the pid, a process's identity. */
  startTime: number;
}

function procStatus(pid: number): ProcStatus | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields resume after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, pgrp: Number(f[2]), startTime: Number(f[19]) };
  } catch {
    return undefined;
  }
}

/** A process's identity: its pid and start time (0 when unknown). */
export function processIdentity(pid: number): { pid: number; startTime: number } {
  return { pid, startTime: procStatus(pid)?.startTime ?? 0 };
}

/** Whether `id` names a live process (a zombie has let go of everything: not live). */
export function isLive(id: { pid: number; startTime: number }): boolean {
  const s = procStatus(id.pid);
  return s !== undefined && s.state !== 'Z' && s.startTime === id.startTime;
}

export interface Reaped {
  record: ProcessRecord;
  /** Pids sent SIGKILL. */
  killed: number[];
}

export class ProcessRecords {
  private readonly dir: string;
  private readonly owner: { pid: number; startTime: number };
  private readonly files = new Map<number, string>();

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'processes');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const self = procStatus(process.pid);
    this.owner = { pid: process.pid, startTime: self?.startTime ?? 0 };
  }

  add(record: Omit<ProcessRecord, 'owner' | 'process'> & { pid: number }): void {
    const status = procStatus(record.pid);
    if (!status) return; // already gone: nothing to reap later
    const { pid, ...rest } = record;
    const full: ProcessRecord = {
      owner: this.owner,
      process: { pid, startTime: status.startTime },
      ...rest,
    };
    // Keyed by pid too: a restarted container and its health checks share its runtime id.
    const file = join(this.dir, `${this.owner.pid}.${record.runtimeId}.${pid}.json`);
    writeFileSync(file, `${JSON.stringify(full)}\n`, { mode: 0o600 });
    this.files.set(pid, file);
  }

  remove(pid: number): void {
    const file = this.files.get(pid);
    if (!file) return;
    this.files.delete(pid);
    rmSync(file, { force: true });
  }

  /**
   * Kills what the records of dead owners name and deletes those records; waits
   * (up to `waitMs`) until the killed processes are gone, so their ports are free.
   */
  async reapLeftovers(waitMs = 5000): Promise<Reaped[]> {
    const reaped: Reaped[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.dir, name);
      const record = readRecord(file);
      if (record && isLive(record.owner)) continue; // another ecs-local's, still running
      if (record) reaped.push({ record, killed: killRecorded(record) });
      rmSync(file, { force: true });
    }
    const killed = reaped.flatMap((r) => r.killed);
    const deadline = Date.now() + waitMs;
    while (killed.some((pid) => isAliveAt(pid)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return reaped;
  }
}

function readRecord(file: string): ProcessRecord | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // torn or foreign file: nothing it names can be trusted
  }
}

function isAliveAt(pid: number): boolean {
  const s = procStatus(pid);
  return s !== undefined && s.state !== 'Z';
}

/**
 * SIGKILLs the recorded container's process group. With its leader still the
 * recorded process, the group is provably ours; with the leader gone, only the
 * members that carry the container's runtime id in their environment are.
 */
function killRecorded(record: ProcessRecord): number[] {
  const pgid = record.process.pid;
  const leader = procStatus(pgid);
  if (leader && leader.startTime !== record.process.startTime) return []; // a recycled pid
  const killed: number[] = [];
  const members = groupMembers(pgid);
  if (leader) {
    signal(-pgid);
    killed.push(pgid, ...members.filter((pid) => pid !== pgid));
    return killed;
  }
  for (const pid of members) {
    if (carriesRuntimeId(pid, record.runtimeId) && signal(pid)) killed.push(pid);
  }
  return killed;
}

function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStatus(Number(name));
    if (s && s.pgrp === pgid && s.state !== 'Z') members.push(Number(name));
  }
  return members;
}

function carriesRuntimeId(pid: number, runtimeId: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .some(
        (kv) => kv.startsWith('ECS_CONTAINER_METADATA_URI_V4=') && kv.endsWith(`/${runtimeId}`),
      );
  } catch {
    return false;
  }
}

function signal(target: number): boolean {
  try {
    process.kill(target, 'SIGKILL');
    return true;
  } catch {
    return false; // ESRCH: already gone
  }
}
