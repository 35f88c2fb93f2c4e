// The reconcilers' settings: one zod schema over the environment, the same way
// controllers/ecs/config.ts reads the driver's. Everything has a default that
// works with `make run` (ecs-local, a proxy on localhost:8000).
import { z } from 'zod';

const seconds = (def: number, max: number) => z.coerce.number().min(0).max(max).default(def);

const envSchema = z.object({
  /**
   * The URL a tool is reached at, told to the tool as BERTH_PUBLIC_URL.
   * Placeholders: {tool}, {namespace}, {name}, {baseDomain}.
   */
  BERTH_PUBLIC_URL_TEMPLATE: z
    .string()
    .regex(/^https?:\/\//, 'must start with http:// or https://')
    .optional(),
  /** URL of a shared tool (ToolDefinition sharing: shared); same placeholders. */
  BERTH_SHARED_URL_TEMPLATE: z
    .string()
    .regex(/^https?:\/\//, 'must start with http:// or https://')
    .optional(),
  BERTH_BASE_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d+)?$/, 'must be a host name such as "localhost" or "tools.example.org"')
    .default('localhost'),
  /** How many ACTIVE revisions of a tool's task definition family to keep. */
  BERTH_TASK_DEFINITION_KEEP: z.coerce.number().int().min(1).max(100).default(3),
  /** The tool container's stopTimeout: seconds between SIGTERM and SIGKILL (ECS allows 2-120). */
  BERTH_TOOL_STOP_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(120).default(30),
  /** Poll interval for starting and stopping tasks. */
  BERTH_POLL_INTERVAL_SECONDS: seconds(1, 60),
  /** Poll interval for ready tasks (catches crashes and Spot interruptions). */
  BERTH_READY_POLL_INTERVAL_SECONDS: seconds(30, 3600),
  BERTH_GC_INTERVAL_SECONDS: seconds(60, 86_400),
  /** The GC leaves tasks younger than this alone (a launch may not have written its status yet). */
  BERTH_GC_GRACE_SECONDS: seconds(60, 86_400),
});

export interface ReconcilerConfig {
  /** `{tool, namespace, name, shared}` -> the tool's public URL. */
  publicUrl(p: { tool: string; namespace: string; name: string; shared: boolean }): string;
  keepRevisions: number;
  toolStopTimeoutSeconds: number;
  pollIntervalMs: number;
  readyPollIntervalMs: number;
  gcIntervalMs: number;
  gcGraceMs: number;
}

export class ReconcilerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcilerConfigError';
  }
}

/** Reads the reconcilers' settings; throws ReconcilerConfigError naming each bad variable. */
export function loadReconcilerConfig(
  env: Record<string, string | undefined> = process.env,
): ReconcilerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ReconcilerConfigError(`invalid controller configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const perUser = e.BERTH_PUBLIC_URL_TEMPLATE ?? 'http://{tool}--{namespace}.{baseDomain}:8000/';
  const shared = e.BERTH_SHARED_URL_TEMPLATE ?? 'http://{tool}.{baseDomain}:8000/';
  return {
    publicUrl: ({ tool, namespace, name, shared: isShared }) =>
      fill(isShared ? shared : perUser, { tool, namespace, name, baseDomain: e.BERTH_BASE_DOMAIN }),
    keepRevisions: e.BERTH_TASK_DEFINITION_KEEP,
    toolStopTimeoutSeconds: e.BERTH_TOOL_STOP_TIMEOUT_SECONDS,
    pollIntervalMs: e.BERTH_POLL_INTERVAL_SECONDS * 1000,
    readyPollIntervalMs: e.BERTH_READY_POLL_INTERVAL_SECONDS * 1000,
    gcIntervalMs: e.BERTH_GC_INTERVAL_SECONDS * 1000,
    gcGraceMs: e.BERTH_GC_GRACE_SECONDS * 1000,
  };
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}
