// The ECS driver: the one module through which berth talks to ECS and EC2.
// One class of some 500 lines on purpose: every call goes through `call()`, which
// shares the token buckets, the metrics and the SDK clients; what needs none of
// them lives beside it (coalescer, buckets, hash, preflight, throttled-attempts).
// Every call waits for the matching client-side token buckets first, is counted
// in metrics, and is retried by the SDK only when ECS throttled it or failed
// (5xx). ECS's own `failures[]` come back as data, never as exceptions.
import type { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import {
  type Cluster,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type DesiredStatus,
  type ECSClient,
  type Failure,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  StopTaskCommand,
  type Tag,
  type Task,
  type TaskOverride,
} from '@aws-sdk/client-ecs';
import type { Registry } from 'prom-client';
import { createClients } from './clients.ts';
import { type CapacityProvider, type EcsDriverConfig, installationStartedBy } from './config.ts';
import { DescribeCoalescer, type DescribeResult } from './describe-coalescer.ts';
import {
  type BucketName,
  type BucketSpec,
  createEcsBuckets,
  type EcsBuckets,
} from './ecs-buckets.ts';
import { createEcsMetrics, type EcsMetrics } from './metrics.ts';
import { type PreflightFinding, runPreflight } from './preflight.ts';
import { SecurityGroupGuard } from './security-group-guard.ts';
import { GATE_PORT, rulesOf, type SecurityGroupRules } from './security-group-rules.ts';
import { CONTENT_HASH_TAG, taskDefinitionHash } from './task-definition-hash.ts';
import { countThrottledAttempts } from './throttled-attempts.ts';

/** Tag on every task and task definition berth creates: which installation owns it. */
export const INSTALLATION_TAG = 'berth:installation';

export interface EcsDriverOptions {
  config: EcsDriverConfig;
  /** prom-client registry for the driver's metrics; the default registry if absent. */
  registry?: Registry;
  /** Bucket sizes other than ECS's (tests, or an account with raised quotas). */
  buckets?: Partial<Record<BucketName, BucketSpec>>;
  /** Told once per distinct security group warning (the proxy's group not admitted). */
  onWarning?(message: string): void;
}

export interface RegisterResult {
  arn: string;
  /** False when the family's latest revision already had this content. */
  registered: boolean;
  contentHash: string;
}

export interface RunTaskRequest {
  taskDefinition: string;
  /** Deterministic per launch attempt (e.g. uid + attempt), at most 64 characters: a retried RunTask returns the same task. */
  clientToken: string;
  /** Defaults to this installation's startedBy (`berth-<installationId>`). */
  startedBy?: string;
  tags?: Record<string, string>;
  overrides?: TaskOverride;
  /** Defaults to the configured capacity provider. */
  capacityProvider?: CapacityProvider;
  /** The ports the tool listens on in its task; its security groups must admit only the proxy there. */
  toolPorts?: number[];
  /** Tasks to start (ECS allows 1 to 10); berth launches one per instance. */
  count?: number;
  /**
   * Wraps the wait for the client-side token buckets, e.g. so a reconcile gives
   * up its worker slot while it only waits for ECS's rate limit.
   */
  whileWaiting?: <T>(wait: Promise<T>) => Promise<T>;
}

export type RunTaskResult = { task: Task; tasks: Task[] } | { failure: Failure };

export interface ListTasksRequest {
  startedBy?: string;
  desiredStatus?: DesiredStatus;
}

export class EcsDriver {
  readonly config: EcsDriverConfig;
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
  readonly buckets: EcsBuckets;
  private readonly metrics: EcsMetrics;
  private readonly coalescer: DescribeCoalescer;
  /** One registration at a time per family in this process, so parallel reconciles do not register twins. */
  private readonly registering = new Map<string, Promise<unknown>>();
  /** The latest turn handed out by runTaskDeferMs (performance.now() ms). */
  private deferredUntil = 0;
  /** Refuses RunTask into security groups that admit more than the proxy on tool ports. */
  readonly securityGroups: SecurityGroupGuard;

  constructor(options: EcsDriverOptions) {
    this.config = options.config;
    const { ecs, ec2 } = createClients(this.config);
    this.ecs = ecs;
    this.ec2 = ec2;
    this.buckets = createEcsBuckets(options.buckets);
    this.metrics = createEcsMetrics(options.registry);
    countThrottledAttempts({ ecs: this.ecs, ec2: this.ec2 }, this.metrics.throttled);
    this.securityGroups = new SecurityGroupGuard({
      groupIds: this.config.securityGroups,
      proxyGroup: this.config.proxySecurityGroup,
      read: (ids) => this.describeSecurityGroups(ids),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
    this.coalescer = new DescribeCoalescer(
      (refs) => this.describeTasksBatch(refs),
      this.config.describeWindowMs,
    );
  }

  /** The startedBy of this installation's tasks. */
  get startedBy(): string {
    return installationStartedBy(this.config.installationId);
  }

  // ---- task definitions ----

  /**
   * Registers the task definition unless the family's latest ACTIVE revision was
   * registered from the same content (its `berth:content-hash` tag matches).
   */
  registerTaskDefinition(input: RegisterTaskDefinitionCommandInput): Promise<RegisterResult> {
    const family = input.family;
    if (!family) return Promise.reject(new TypeError('registerTaskDefinition: family is required'));
    const previous = this.registering.get(family) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.registerIfChanged(family, input));
    this.registering.set(family, next);
    void next
      .finally(() => {
        if (this.registering.get(family) === next) this.registering.delete(family);
      })
      .catch(() => {});
    return next;
  }

  private async registerIfChanged(
    family: string,
    input: RegisterTaskDefinitionCommandInput,
  ): Promise<RegisterResult> {
    const contentHash = taskDefinitionHash(input);
    const latest = await this.latestTaskDefinition(family);
    if (latest && latest.hash === contentHash) {
      return { arn: latest.arn, registered: false, contentHash };
    }
    const tags: Tag[] = [
      ...(input.tags ?? []).filter((t) => t.key !== CONTENT_HASH_TAG && t.key !== INSTALLATION_TAG),
      { key: INSTALLATION_TAG, value: this.config.installationId },
      { key: CONTENT_HASH_TAG, value: contentHash },
    ];
    const out = await this.call('RegisterTaskDefinition', [['taskDefinitionModify', 1]], () =>
      this.ecs.send(new RegisterTaskDefinitionCommand({ ...input, tags })),
    );
    const arn = out.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new Error('RegisterTaskDefinition answered without a taskDefinitionArn');
    return { arn, registered: true, contentHash };
  }

  private async latestTaskDefinition(
    family: string,
  ): Promise<{ arn: string; hash?: string } | undefined> {
    try {
      const out = await this.call('DescribeTaskDefinition', [['clusterRead', 1]], () =>
        this.ecs.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }),
        ),
      );
      const arn = out.taskDefinition?.taskDefinitionArn;
      if (!arn) return undefined;
      return { arn, hash: out.tags?.find((t) => t.key === CONTENT_HASH_TAG)?.value };
    } catch (err) {
      // ECS answers ClientException ("Unable to describe task definition.") for an unknown family.
      if (errorName(err) === 'ClientException') return undefined;
      throw err;
    }
  }

  /** Deregisters every ACTIVE revision of `family` but the newest `keep`; returns the ARNs deregistered. */
  async deregisterOldRevisions(family: string, keep: number): Promise<string[]> {
    if (!Number.isInteger(keep) || keep < 1)
      throw new RangeError('keep must be a whole number of at least 1');
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('ListTaskDefinitions', [['clusterRead', 1]], () =>
        this.ecs.send(
          new ListTaskDefinitionsCommand({
            familyPrefix: family,
            status: 'ACTIVE',
            sort: 'DESC',
            maxResults: 100,
            nextToken,
          }),
        ),
      );
      arns.push(...(page.taskDefinitionArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    // familyPrefix matches the whole family name on ECS; filter anyway so a looser server cannot make us deregister a neighbour.
    const ours = arns
      .filter((arn) => familyOf(arn) === family)
      .sort((a, b) => revisionOf(b) - revisionOf(a));
    const old = ours.slice(keep);
    for (const arn of old) {
      await this.call('DeregisterTaskDefinition', [['taskDefinitionModify', 1]], () =>
        this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })),
      );
    }
    return old;
  }

  // ---- tasks ----

  /**
   * How long a RunTask of `count` tasks started now would wait for the client-side
   * buckets (behind the calls already waiting); 0 with the buckets off.
   */
  runTaskWaitMs(count = 1): number {
    if (!this.config.clientThrottle) return 0;
    return Math.max(
      this.buckets.fargateTaskLaunch.estimateWaitMs(count),
      this.buckets.fargateRunTask.estimateWaitMs(1),
      this.buckets.clusterModify.estimateWaitMs(1),
    );
  }

  /**
   * For a caller that would rather come back later than wait long for a RunTask:
   * 0 means call runTask now (the wait is at most `horizonMs`); otherwise come
   * back after the returned ms. Each caller told to come back gets its own later
   * place (behind the calls waiting and the callers told before it, at the
   * RunTask rate), so a burst comes back spread out, in order, about `horizonMs`/2
   * before its turn, instead of all at once.
   */
  runTaskDeferMs(horizonMs: number, count = 1, now = performance.now()): number {
    const wait = this.runTaskWaitMs(count);
    if (wait <= horizonMs) return 0;
    const gap =
      1000 /
      Math.min(
        this.buckets.fargateRunTask.refillPerSecond,
        this.buckets.fargateTaskLaunch.refillPerSecond / count,
      );
    const turn = Math.max(now + wait, this.deferredUntil + gap);
    this.deferredUntil = turn;
    return Math.ceil(turn - now - horizonMs / 2);
  }

  /** Starts a task on Fargate. A lack of capacity and other ECS failures come back as `{failure}`. */
  async runTask(req: RunTaskRequest): Promise<RunTaskResult> {
    if (req.clientToken.length < 1 || req.clientToken.length > 64) {
      throw new RangeError('runTask: clientToken must be 1 to 64 characters');
    }
    const count = req.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 10)
      throw new RangeError('runTask: count must be 1 to 10');
    const tags = toTags({ ...req.tags, [INSTALLATION_TAG]: this.config.installationId });
    if (tags.length > 50) throw new RangeError('runTask: ECS allows at most 50 tags on a task');
    await this.securityGroups.check(req.toolPorts ?? [GATE_PORT]);
    const out = await this.call(
      'RunTask',
      [
        ['fargateTaskLaunch', count],
        ['fargateRunTask', 1],
        ['clusterModify', 1],
      ],
      () =>
        this.ecs.send(
          new RunTaskCommand({
            cluster: this.config.cluster,
            taskDefinition: req.taskDefinition,
            clientToken: req.clientToken,
            startedBy: req.startedBy ?? this.startedBy,
            count,
            tags,
            overrides: req.overrides,
            capacityProviderStrategy: [
              { capacityProvider: req.capacityProvider ?? this.config.capacityProvider, weight: 1 },
            ],
            platformVersion: this.config.platformVersion,
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: this.config.subnets,
                securityGroups: this.config.securityGroups,
                assignPublicIp: this.config.assignPublicIp,
              },
            },
          }),
        ),
      (o) => (o.tasks?.length ?? 0) === 0,
      req.whileWaiting,
    );
    const tasks = out.tasks ?? [];
    if (tasks.length > 0) return { task: tasks[0]!, tasks };
    return {
      failure: out.failures?.[0] ?? { reason: 'RunTask started no task and gave no failure' },
    };
  }

  /**
   * Stops a task; ECS sends SIGTERM, then SIGKILL after the container's stopTimeout.
   * A task ECS does not know (gone long ago, or a restarted ecs-local) is as
   * stopped as it gets: that answers undefined instead of failing every retry.
   */
  async stopTask(taskArn: string, reason: string): Promise<Task | undefined> {
    try {
      const out = await this.call('StopTask', [['clusterModify', 1]], () =>
        this.ecs.send(
          new StopTaskCommand({
            cluster: this.config.cluster,
            task: taskArn,
            reason: reason.slice(0, 255),
          }),
        ),
      );
      return out.task;
    } catch (err) {
      if (isTaskNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Describes tasks (with their tags). Calls made within the same few
   * milliseconds are merged into DescribeTasks calls of up to 100 tasks; each
   * caller gets back only its own tasks, and a `MISSING` failure for the others.
   */
  describeTasks(refs: readonly string[]): Promise<DescribeResult> {
    return this.coalescer.describe(refs);
  }

  private async describeTasksBatch(refs: string[]): Promise<DescribeResult> {
    const out = await this.call(
      'DescribeTasks',
      [['clusterRead', 1]],
      () =>
        this.ecs.send(
          new DescribeTasksCommand({
            cluster: this.config.cluster,
            tasks: refs,
            include: ['TAGS'],
          }),
        ),
      (o) => (o.failures?.length ?? 0) > 0,
    );
    return { tasks: out.tasks ?? [], failures: out.failures ?? [] };
  }

  /**
   * Task ARNs across all pages. ECS allows startedBy only as the sole filter
   * (with desiredStatus RUNNING implied), so stopped tasks of one startedBy are
   * found by listing STOPPED tasks and describing them.
   */
  async listTasks(req: ListTasksRequest = {}): Promise<string[]> {
    const desiredStatus = req.desiredStatus ?? 'RUNNING';
    if (req.startedBy && desiredStatus !== 'RUNNING') {
      const all = await this.listTaskPages({ desiredStatus });
      const { tasks } = await this.describeTasks(all);
      return tasks.filter((t) => t.startedBy === req.startedBy).map((t) => t.taskArn!);
    }
    return this.listTaskPages(req.startedBy ? { startedBy: req.startedBy } : { desiredStatus });
  }

  private async listTaskPages(filter: {
    startedBy?: string;
    desiredStatus?: DesiredStatus;
  }): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('ListTasks', [['clusterRead', 1]], () =>
        this.ecs.send(
          new ListTasksCommand({
            cluster: this.config.cluster,
            ...filter,
            maxResults: 100,
            nextToken,
          }),
        ),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  // ---- preflight ----

  /**
   * Checks that the cluster, subnets and security groups exist and that the
   * groups admit only the proxy on `toolPorts`; findings in plain words.
   */
  preflight(toolPorts?: number[]): Promise<PreflightFinding[]> {
    return runPreflight(
      this.config,
      {
        describeCluster: async (name) => {
          const out = await this.call('DescribeClusters', [['clusterRead', 1]], () =>
            this.ecs.send(new DescribeClustersCommand({ clusters: [name] })),
          );
          return out.clusters?.find((c: Cluster) => c.status !== 'INACTIVE');
        },
        describeSubnets: async (ids) => {
          const out = await this.call('DescribeSubnets', [], () =>
            this.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids })),
          );
          return (out.Subnets ?? []).map((s) => ({ id: s.SubnetId ?? '', vpcId: s.VpcId }));
        },
        describeSecurityGroups: (ids) => this.describeSecurityGroups(ids),
      },
      toolPorts,
    );
  }

  /** The groups with their ingress rules. */
  private async describeSecurityGroups(ids: string[]): Promise<SecurityGroupRules[]> {
    const out = await this.call('DescribeSecurityGroups', [], () =>
      this.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ids })),
    );
    return (out.SecurityGroups ?? []).map(rulesOf);
  }

  /** Rejects callers still waiting for tokens and closes the SDK clients. */
  close(): void {
    for (const bucket of Object.values(this.buckets)) bucket.close();
    this.ecs.destroy();
    this.ec2.destroy();
  }

  // ---- plumbing ----

  /** Waits for the buckets, makes the call, and counts it. */
  private async call<T>(
    operation: string,
    takes: Array<[BucketName, number]>,
    send: () => Promise<T>,
    isFailure?: (out: T) => boolean,
    whileWaiting?: <W>(wait: Promise<W>) => Promise<W>,
  ): Promise<T> {
    if (this.config.clientThrottle) {
      for (const [name, tokens] of takes) {
        const take = this.buckets[name].take(tokens);
        // Only a real wait is handed to whileWaiting (a token in hand resolves at once).
        const waited =
          whileWaiting && this.buckets[name].waiting() > 0 ? await whileWaiting(take) : await take;
        this.metrics.throttleWait.observe({ bucket: name }, waited);
      }
    }
    try {
      const out = await send();
      this.metrics.calls.inc({ operation, outcome: isFailure?.(out) ? 'failure' : 'ok' });
      return out;
    } catch (err) {
      this.metrics.calls.inc({ operation, outcome: 'error' });
      throw err;
    }
  }
}

export function createEcsDriver(options: EcsDriverOptions): EcsDriver {
  return new EcsDriver(options);
}

function toTags(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

/** `arn:aws:ecs:r:a:task-definition/family:7` -> `family`. */
function familyOf(arn: string): string {
  const tail = arn.slice(arn.lastIndexOf('/') + 1);
  return tail.slice(0, tail.lastIndexOf(':'));
}

function revisionOf(arn: string): number {
  return Number(arn.slice(arn.lastIndexOf(':') + 1));
}

/** StopTask's answer for a task ECS does not know: InvalidParameterException "The referenced task was not found." */
function isTaskNotFound(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'InvalidParameterException' && /task was not found/i.test(e.message ?? '');
}
