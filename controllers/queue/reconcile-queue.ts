// The reconcile work queue on pg-boss: one `stately` queue per kind and
// singletonKey = kind/ns/name, so each object has at most one queued and one active
// job (client-go's dirty and processing sets), across every replica. pg-boss runs
// over our pool (no second pool); its tables live in their own schema.
import { PgBoss } from 'pg-boss';
import type { ObjectKey, Pool, PoolClient } from '../../store/index.ts';
import { clientDb } from './client-db.ts';
import {
  keyString,
  objectKeyOf,
  PRIORITY,
  type PriorityName,
  queueName,
  RECONCILE_CHANNEL,
  type ReconcileJobData,
  reconcileJobData,
} from './names.ts';

export interface ReconcileQueueOptions {
  pool: Pool;
  /** Kinds that have a queue; enqueues for any other kind are ignored. */
  kinds: readonly string[];
  /** pg-boss's schema; default `pgboss`. */
  schema?: string;
  /**
   * `worker` also runs pg-boss's supervision (expiring jobs of dead workers,
   * deleting old ones); a `producer` (the API) only enqueues.
   */
  role: 'producer' | 'worker';
  /** A worker must touch its active jobs this often or they are retried elsewhere; default 10 (min 10). */
  heartbeatSeconds?: number;
  /** How often supervision runs; default 5. */
  superviseSeconds?: number;
  /** An active job is given up on (retried elsewhere) after this long, heartbeat or not; default 900. */
  expireSeconds?: number;
  onError?: (err: unknown) => void;
}

export interface EnqueueOptions {
  priority?: PriorityName;
  /** Not before this many ms from now. */
  delayMs?: number;
  /** Consecutive failures so far (backoff); default 0. */
  failures?: number;
  /** Run in this transaction (the store write's own). */
  client?: PoolClient;
  /** When the reconcile became due (for the queue-wait metric); default now + delayMs. */
  enqueuedAt?: number;
  /**
   * The caller wakes a worker itself (an enqueue from inside a controller process,
   * which wakes its own loop): no NOTIFY. Default false.
   */
  localWake?: boolean;
  /**
   * A queued job for the key probably exists (e.g. a poller asking again for an
   * instance that has a delayed safety requeue): try pulling it forward first,
   * which saves the failing insert. Only for immediate, non-resync requests.
   */
  likelyQueued?: boolean;
}

/** A fetched job: which object to reconcile, and the attempt to settle. */
export interface ReconcileJob {
  id: string;
  retryCount: number;
  key: ObjectKey;
  data: ReconcileJobData;
}

export interface QueueDepth {
  kind: string;
  state: 'created' | 'retry' | 'active';
  count: number;
}

const JOBS_KEPT_SECONDS = 600;

interface Settle {
  resolve(): void;
  reject(err: unknown): void;
}

export class ReconcileQueue {
  readonly boss: PgBoss;
  readonly schema: string;
  readonly #pool: Pool;
  readonly #kinds: Map<string, string>;
  /** Completions waiting for the next flush, by queue name. */
  readonly #completing = new Map<string, Array<{ job: ReconcileJob; settle: Settle }>>();
  #flushScheduled = false;

  private constructor(boss: PgBoss, pool: Pool, schema: string, kinds: readonly string[]) {
    this.boss = boss;
    this.#pool = pool;
    this.schema = schema;
    this.#kinds = new Map(kinds.map((k) => [k, queueName(k)]));
  }

  /** Starts pg-boss (installing or migrating its schema) and creates the queues. */
  static async start(opts: ReconcileQueueOptions): Promise<ReconcileQueue> {
    const schema = opts.schema ?? 'pgboss';
    const worker = opts.role === 'worker';
    const supervise = opts.superviseSeconds ?? 5;
    const boss = new PgBoss({
      db: clientDb(opts.pool),
      schema,
      migrate: true,
      supervise: worker,
      schedule: false,
      superviseIntervalSeconds: supervise,
      monitorIntervalSeconds: supervise,
      maintenanceIntervalSeconds: 300,
      registerInstance: false,
      openTelemetry: { enabled: false },
    });
    boss.on('error', (err) => opts.onError?.(err));
    await boss.start();
    const heartbeatSeconds = Math.max(10, opts.heartbeatSeconds ?? 10);
    for (const kind of opts.kinds) {
      await boss.createQueue(queueName(kind), {
        policy: 'stately',
        // Failures are retried by us (delayed sends with a failure count); pg-boss's
        // retries only bring back jobs whose worker died (heartbeat or expiry).
        retryLimit: 1000,
        retryDelay: 0,
        expireInSeconds: opts.expireSeconds ?? 900,
        heartbeatSeconds,
        deleteAfterSeconds: JOBS_KEPT_SECONDS,
      });
    }
    return new ReconcileQueue(boss, opts.pool, schema, opts.kinds);
  }

  get kinds(): string[] {
    return [...this.#kinds.keys()];
  }

  handles(kind: string): boolean {
    return this.#kinds.has(kind);
  }

  /**
   * Asks for a reconcile of `key`. Ignored for kinds without a queue. If the key
   * already has a queued job (stately keeps one), an immediate request pulls that
   * job forward (now, failures reset; a user request also raises it to user
   * priority), so a change never waits behind a deferred requeue or a resync.
   */
  async enqueue(key: ObjectKey, opts: EnqueueOptions = {}): Promise<void> {
    const name = this.#kinds.get(key.kind);
    if (!name) return;
    const priority = PRIORITY[opts.priority ?? 'user'];
    const delayMs = Math.max(0, opts.delayMs ?? 0);
    const data: ReconcileJobData = {
      kind: key.kind,
      ...(key.namespace ? { namespace: key.namespace } : {}),
      name: key.name,
      failures: opts.failures ?? 0,
      enqueuedAt: opts.enqueuedAt ?? Date.now() + delayMs,
    };
    const db = clientDb(opts.client ?? this.#pool);
    const singletonKey = keyString(key);
    const pullForward = delayMs === 0 && opts.priority !== 'resync';
    // Pulling forward never lowers a queued job's priority: a user's change already
    // queued stays ahead of a follow-up that finds it there.
    const raise = opts.priority === undefined || opts.priority === 'user' ? { priority } : {};
    const update = async () =>
      (await this.boss.update(name, data, { singletonKey, startAfter: 0, ...raise, db })).updated >
      0;
    let runnableNow = pullForward && opts.likelyQueued ? await update() : false;
    for (let attempt = 1; !runnableNow; attempt++) {
      const id = await this.boss.send(name, data, {
        singletonKey,
        priority,
        ...(delayMs > 0 ? { startAfter: delayMs / 1000 } : {}),
        db,
      });
      if (id !== null) {
        runnableNow = delayMs === 0;
        break;
      }
      // The key has a queued job. A deferred request or a resync leaves it as it is.
      if (!pullForward) break;
      if (await update()) {
        runnableNow = true;
        break;
      }
      // The queued job was claimed between the two statements: it may be reading the
      // object before this (uncommitted) change, so it cannot stand for this request.
      // Its queued slot is free now: send again (a lost change stalled a test 1 in 3).
      if (attempt === 3) {
        throw new Error(
          `could not enqueue a reconcile of ${singletonKey}: its queued job kept being claimed`,
        );
      }
    }
    // Delivered at commit (never for a rolled-back write): idle workers fetch at once.
    if (runnableNow && !opts.localWake)
      await db.executeSql('select pg_notify($1, $2)', [RECONCILE_CHANNEL, key.kind]);
  }

  /** Enqueues many keys of one kind in one statement (resync); existing queued jobs are kept. */
  async enqueueMany(kind: string, keys: ObjectKey[], priority: PriorityName): Promise<number> {
    const name = this.#kinds.get(kind);
    if (!name || keys.length === 0) return 0;
    const now = Date.now();
    const ids = await this.boss.insert(
      name,
      keys.map((key) => ({
        data: {
          kind: key.kind,
          ...(key.namespace ? { namespace: key.namespace } : {}),
          name: key.name,
          failures: 0,
          enqueuedAt: now,
        },
        singletonKey: keyString(key),
        priority: PRIORITY[priority],
      })),
      { returnId: true },
    );
    const n = ids?.length ?? 0;
    if (n > 0) await this.#pool.query('select pg_notify($1, $2)', [RECONCILE_CHANNEL, kind]);
    return n;
  }

  /** Claims up to `max` runnable jobs of `kind` (highest priority, oldest first). */
  async fetch(kind: string, max: number): Promise<ReconcileJob[]> {
    const name = this.#kinds.get(kind);
    if (!name || max <= 0) return [];
    const jobs = await this.boss.fetch<unknown>(name, { batchSize: max });
    const out: ReconcileJob[] = [];
    for (const j of jobs) {
      const parsed = reconcileJobData.safeParse(j.data);
      if (!parsed.success) {
        // Not ours to run (hand-made job): settle it so it does not block the key.
        await this.boss.complete(name, { id: j.id, retryCount: j.retryCount });
        continue;
      }
      out.push({
        id: j.id,
        retryCount: j.retryCount,
        key: objectKeyOf(parsed.data),
        data: parsed.data,
      });
    }
    return out;
  }

  /**
   * Settles a job (whatever the outcome: failures are re-enqueued as new, delayed
   * jobs). Completions made in the same turn of the event loop go out as one
   * statement per kind; each caller's promise settles with that statement.
   */
  complete(job: ReconcileJob): Promise<void> {
    const name = this.#kinds.get(job.key.kind);
    if (!name) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const list = this.#completing.get(name) ?? [];
      list.push({ job, settle: { resolve, reject } });
      this.#completing.set(name, list);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flushCompletions());
      }
    });
  }

  #flushCompletions(): void {
    this.#flushScheduled = false;
    for (const [name, list] of this.#completing) {
      this.#completing.delete(name);
      // Fenced to the attempt fetched (retryCount), as a single complete is.
      this.boss
        .complete(
          name,
          list.map((e) => ({ id: e.job.id, retryCount: e.job.retryCount })),
        )
        .then(
          () => {
            for (const e of list) e.settle.resolve();
          },
          (err: unknown) => {
            for (const e of list) e.settle.reject(err);
          },
        );
    }
  }

  /** Heartbeat for jobs still running, so supervision does not hand them to another worker. */
  async touch(kind: string, jobs: ReconcileJob[]): Promise<void> {
    const name = this.#kinds.get(kind);
    if (!name || jobs.length === 0) return;
    await this.boss.touch(
      name,
      jobs.map((j) => ({ id: j.id, retryCount: j.retryCount })),
    );
  }

  /** Jobs per kind and state (queued = created/retry, active), read live. */
  async depth(): Promise<QueueDepth[]> {
    const { rows } = await this.#pool.query<{
      name: string;
      state: QueueDepth['state'];
      count: number;
    }>(
      `select name, state::text as state, count(*)::int as count from ${this.schema}.job
        where name = any($1::text[]) and state in ('created', 'retry', 'active') group by 1, 2`,
      [[...this.#kinds.values()]],
    );
    // Every kind and state, zeros included, so an empty queue reads 0 rather than nothing.
    const out: QueueDepth[] = [];
    for (const [kind, name] of this.#kinds) {
      for (const state of ['created', 'retry', 'active'] as const) {
        const count = rows.find((r) => r.name === name && r.state === state)?.count ?? 0;
        out.push({ kind, state, count });
      }
    }
    return out;
  }

  /** Stops pg-boss's timers; our pool stays open (it is the caller's). */
  async stop(): Promise<void> {
    await this.boss.stop({ graceful: false, close: false });
  }
}
