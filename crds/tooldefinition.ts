// ToolDefinition: a catalogue entry (cluster-scoped) saying how to run one tool on
// Fargate: its image and port, the sizes a user may pick, when it counts as ready,
// when it is idle, and who may use it. ToolInstances point at it by name.
import { z } from 'zod';
import { duration } from './duration.ts';
import { fargateSize } from './fargate.ts';
import { API_VERSION, condition, objectMeta } from './meta.ts';
import type { KindInfo } from './registry.ts';

/**
 * Tool names appear in hostnames as `<tool>--<user>.<base-domain>`, so they are
 * DNS labels and must not themselves contain `--`.
 */
const toolName = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters (it becomes part of a hostname)')
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be lowercase letters, digits and "-", starting and ending with a letter or digit',
  )
  .refine((s) => !s.includes('--'), {
    message: 'must not contain "--" (it separates tool and user in hostnames)',
  });

/** Size names are map keys users type (`berth launch jupyterlab --size large`). */
export const sizeName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-"');

export const envVar = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      'must be letters, digits and "_", not starting with a digit',
    ),
  value: z.string().max(32 * 1024),
});
export type EnvVar = z.infer<typeof envVar>;

/** Environment variables as Kubernetes writes them; names must be unique. */
const envList = z
  .array(envVar)
  .max(200)
  .superRefine((list, ctx) => uniqueBy(list, (e) => e.name, 'name', ctx));

const imageRef = z
  .string()
  .min(1, 'must not be empty')
  .max(1024)
  .regex(
    /^[^\s]+$/,
    'must be an image reference without spaces, e.g. "quay.io/jupyter/minimal-notebook:latest"',
  );

const portNumber = z.number().int().min(1).max(65535);

/**
 * ECS's container health check: `["CMD", exe, ...args]` runs the program in the
 * container, `["CMD-SHELL", "command"]` runs it with the container's shell. Exit 0
 * means healthy.
 */
export const containerHealthCheck = z.strictObject({
  command: z
    .array(z.string().min(1))
    .min(2, 'must be ["CMD", program, ...args] or ["CMD-SHELL", "shell command"]')
    .refine((c) => c[0] === 'CMD' || c[0] === 'CMD-SHELL', {
      message: 'must start with "CMD" or "CMD-SHELL"',
    }),
  /** ECS: 5 to 300 s. */
  intervalSeconds: z.number().int().min(5).max(300).default(10),
  /** ECS: 2 to 60 s. */
  timeoutSeconds: z.number().int().min(2).max(60).default(5),
  /** ECS: 1 to 10 failures in a row make the container UNHEALTHY. */
  retries: z.number().int().min(1).max(10).default(3),
  /** ECS: 0 to 300 s during which failures do not count. */
  startPeriodSeconds: z.number().int().min(0).max(300).default(0),
});
export type ContainerHealthCheck = z.infer<typeof containerHealthCheck>;

export const sidecar = z.strictObject({
  name: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-"'),
  image: imageRef,
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: envList.optional(),
  /** When an essential sidecar stops, ECS stops the whole task. */
  essential: z.boolean().default(false),
  port: portNumber.optional(),
  healthCheck: containerHealthCheck.optional(),
  /**
   * The tool's container starts only once this sidecar has started (`Start`) or
   * is healthy (`Healthy`, which needs a healthCheck): ECS container dependencies.
   * At stop, ECS stops the tool first and this sidecar after it.
   */
  toolWaitsFor: z.enum(['Start', 'Healthy']).optional(),
  /** Restarted in place when it exits (ECS container restart policy), e.g. after a crash. */
  restartOnExit: z.boolean().default(false),
  /** Time between SIGTERM and SIGKILL at task stop (Fargate: at most 120 s; ECS default 30 s). */
  stopTimeoutSeconds: z.number().int().min(2).max(120).optional(),
});
export type Sidecar = z.infer<typeof sidecar>;

/** An absolute path in the container, no "..": where the home volume is mounted. */
const containerPath = z
  .string()
  .max(1024)
  .regex(/^\/[^\s]*$/, 'must be an absolute path without spaces, e.g. "/home/jovyan"')
  .refine((p) => !p.split('/').includes('..') && p !== '/', {
    message: 'must not be "/" or contain ".."',
  });

const readinessProbe = z.strictObject({
  /** HTTP GET on the tool's port; any 2xx or 3xx answer means ready. */
  path: z
    .string()
    .regex(/^\//, 'must start with "/"')
    .max(2048)
    .default('/')
    .describe('HTTP GET path probed on the tool port; a 2xx or 3xx answer means ready'),
  timeoutSeconds: z.number().int().min(1).max(300).default(5),
  periodSeconds: z.number().int().min(1).max(300).default(1),
});

const idlePolicy = z.strictObject({
  /** Stop an instance that saw no traffic and stayed under cpuThreshold for this long. */
  idleAfter: duration.default('1h'),
  /** CPU use (percent of the task's CPU) below which the task counts as idle. */
  cpuThreshold: z.number().min(0).max(100).default(5),
  /** How long before an idle or maxLifetime stop the user is warned (Event, web UI banner). */
  warnBefore: duration
    .default('10m')
    .describe('How long before an idle or maxLifetime stop the user is warned'),
  /**
   * Request paths (prefixes) that are a tool's own polling, not a person's use:
   * requests to them do not count as activity (e.g. JupyterLab's `/api/kernels`).
   */
  ignoredPaths: z
    .array(z.string().regex(/^\//, 'must start with "/"').max(2048))
    .max(50)
    .default([])
    .describe("Request path prefixes that do not count as activity (a tool's own polling)"),
});

const accessRule = z.strictObject({
  /** User slugs (the namespaces of their instances). */
  users: z.array(z.string().min(1).max(253)).default([]),
  groups: z.array(z.string().min(1).max(253)).default([]),
});

const toolDefinitionSpec = z
  .strictObject({
    displayName: z.string().min(1).max(100).describe('Name shown in the web UI and CLI'),
    description: z.string().max(4096).default(''),
    image: imageRef.describe('Container image of the tool'),
    port: portNumber.describe('Port the tool listens on inside the task'),
    /** Replaces the image's ENTRYPOINT when given. */
    command: z.array(z.string()).optional(),
    /** Replaces the image's CMD when given. */
    args: z.array(z.string()).optional(),
    env: envList.default([]),
    sizes: z
      .record(sizeName, fargateSize)
      .refine((s) => Object.keys(s).length > 0, { message: 'must name at least one size' })
      .describe('Named sizes a user may pick: cpu in Fargate CPU units, memory in MiB'),
    defaultSize: sizeName.describe('Key of spec.sizes used when an instance names no size'),
    readiness: readinessProbe.prefault({}),
    /** How long a launch may take from RunTask to ready before it is marked Failed. */
    spawnTimeout: duration
      .default('10m')
      .describe('Longest time from launch to ready before the instance fails'),
    idle: idlePolicy.prefault({}),
    /** Stop an instance this long after it started, idle or not. Absent: no limit. */
    maxLifetime: duration
      .optional()
      .describe('Stop an instance this long after it started; absent: no limit'),
    /** perUser: one instance per user, in that user's namespace. shared: one instance for everyone. */
    sharing: z
      .enum(['perUser', 'shared'])
      .default('perUser')
      .describe('perUser: one instance per user; shared: one instance for everyone'),
    /** Who may launch or open the tool. Absent: every signed-in user. */
    access: accessRule.optional().describe('Who may use the tool; absent: every signed-in user'),
    /** Extra containers in the same task (metrics, s3sync, ...); ECS allows 10 containers in all. */
    sidecars: z
      .array(sidecar)
      .max(9)
      .default([])
      .superRefine((list, ctx) => uniqueBy(list, (s) => s.name, 'name', ctx)),
    /**
     * The user's home folder: a task volume mounted at this path in the tool's
     * container (its HOME) and in every sidecar, so s3sync can keep it in step
     * with the user's files. Absent: no home volume.
     */
    homePath: containerPath
      .optional()
      .describe("Where the user's home folder (synced with their files) is mounted; absent: none"),
    /** Fargate task ephemeral storage: 21 to 200 GiB. */
    ephemeralStorageGiB: z
      .number()
      .int()
      .min(21)
      .max(200)
      .default(21)
      .describe('Fargate ephemeral storage in GiB (21-200)'),
    capacity: z
      .enum(['FARGATE', 'FARGATE_SPOT'])
      .default('FARGATE')
      .describe('Fargate capacity provider; FARGATE_SPOT is cheaper but may be interrupted'),
  })
  .superRefine((spec, ctx) => {
    spec.sidecars.forEach((s, i) => {
      if (s.toolWaitsFor === 'Healthy' && !s.healthCheck)
        ctx.addIssue({
          code: 'custom',
          path: ['sidecars', i, 'toolWaitsFor'],
          message: '"Healthy" needs the sidecar\'s healthCheck',
        });
    });
    if (!Object.hasOwn(spec.sizes, spec.defaultSize)) {
      const names = Object.keys(spec.sizes);
      ctx.addIssue({
        code: 'custom',
        path: ['defaultSize'],
        message: `"${spec.defaultSize}" is not one of spec.sizes (${names.length ? names.join(', ') : 'none'})`,
      });
    }
  });

const toolDefinitionStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  conditions: z.array(condition).default([]),
  /** The ECS task definition registered for the current generation. */
  taskDefinitionArn: z.string().optional(),
});

export const toolDefinitionSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('ToolDefinition'),
  metadata: objectMeta.extend({ name: toolName }),
  spec: toolDefinitionSpec,
  status: toolDefinitionStatus.optional(),
});

export type ToolDefinition = z.infer<typeof toolDefinitionSchema>;
export type ToolDefinitionInput = z.input<typeof toolDefinitionSchema>;
export type ToolDefinitionSpec = z.infer<typeof toolDefinitionSpec>;
export type ToolDefinitionSpecInput = z.input<typeof toolDefinitionSpec>;
export type ToolDefinitionStatus = z.infer<typeof toolDefinitionStatus>;

export const toolDefinitionKind: KindInfo = {
  kind: 'ToolDefinition',
  plural: 'tooldefinitions',
  singular: 'tooldefinition',
  shortNames: ['td'],
  namespaced: false,
  statusSubresource: true,
  schema: toolDefinitionSchema,
  printerColumns: [
    { name: 'DISPLAY NAME', type: 'string', jsonPath: '.spec.displayName' },
    { name: 'IMAGE', type: 'string', jsonPath: '.spec.image' },
    { name: 'SHARING', type: 'string', jsonPath: '.spec.sharing' },
    { name: 'DEFAULT SIZE', type: 'string', jsonPath: '.spec.defaultSize' },
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'PORT', type: 'integer', jsonPath: '.spec.port', priority: 1 },
    { name: 'CAPACITY', type: 'string', jsonPath: '.spec.capacity', priority: 1 },
  ],
};

function uniqueBy<T>(
  list: T[],
  key: (item: T) => string,
  field: string,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k))
      ctx.addIssue({ code: 'custom', path: [i, field], message: `duplicate ${field} "${k}"` });
    seen.add(k);
  });
}
