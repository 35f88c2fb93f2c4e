// The reconcilers' settings (tool URLs, task definitions, the task poller, the
// garbage collector), read by the one settings loader (settings/). Every default
// works with `make run` (ecs-local, a proxy on localhost:8000).
import { z } from 'zod';
import { durationMs, integer, loadSettings, setting } from '../../settings/index.ts';
import { toolSecretKeySetting } from '../../store/index.ts';
import { GATE_PORT } from '../ecs/index.ts';

const urlTemplate = z.string().regex(/^https?:\/\//, 'must start with http:// or https://');

export const reconcilerConfigSchema = z.object({
  publicUrlTemplate: setting(urlTemplate.default('http://{tool}--{namespace}.{toolDomain}:8000/'), {
    env: 'BERTH_PUBLIC_URL_TEMPLATE',
    description:
      'The URL a tool is reached at, told to the tool as BERTH_PUBLIC_URL. Placeholders: {tool}, {namespace}, {name}, {toolDomain}, {baseDomain}.',
  }),
  sharedUrlTemplate: setting(urlTemplate.default('http://{tool}.{toolDomain}:8000/'), {
    env: 'BERTH_SHARED_URL_TEMPLATE',
    description:
      'The URL of a shared tool (ToolDefinition `sharing: shared`); the same placeholders.',
  }),
  baseDomain: setting(
    z
      .string()
      .regex(
        /^[a-z0-9.-]+(:\d+)?$/,
        'must be a host name such as "localhost" or "tools.example.org"',
      )
      .default('localhost'),
    {
      env: 'BERTH_BASE_DOMAIN',
      description: "{baseDomain} in the URL templates: berth's own host.",
    },
  ),
  toolDomain: setting(
    z
      .string()
      .regex(/^[a-z0-9.-]+$/, 'must be a domain name such as "tools-example.net"')
      .optional(),
    {
      env: 'BERTH_TOOL_DOMAIN',
      shownDefault: 'the base domain',
      description:
        "{toolDomain} in the URL templates: the tools' parent domain, as the proxy reads it (SECURITY.md: a separate registrable domain).",
    },
  ),
  keepRevisions: setting(integer(1, 100).default(3), {
    env: 'BERTH_TASK_DEFINITION_KEEP',
    description: "How many ACTIVE revisions of a tool's task definition family to keep.",
  }),
  toolStopTimeoutMs: setting(durationMs(2000, 120_000).multipleOf(1000).default(30_000), {
    env: 'BERTH_TOOL_STOP_TIMEOUT_MS',
    replaces: ['BERTH_TOOL_STOP_TIMEOUT_SECONDS'],
    description:
      "The tool container's stopTimeout: how long between SIGTERM and SIGKILL; a multiple of 1000, as ECS counts seconds.",
  }),
  pollIntervalMs: setting(durationMs(10, 60_000).default(1000), {
    env: 'BERTH_TASK_POLL_MS',
    replaces: ['BERTH_POLL_INTERVAL_SECONDS'],
    description: 'How often the task poller describes tasks that are starting or stopping.',
  }),
  readyPollIntervalMs: setting(durationMs(10, 3_600_000).default(10_000), {
    env: 'BERTH_READY_TASK_POLL_MS',
    replaces: ['BERTH_READY_POLL_INTERVAL_SECONDS'],
    description:
      'How often the task poller describes tasks of Ready instances (catches crashes, Spot interruptions and tasks ECS forgot); 1,000 Ready instances cost one DescribeTasks call a second at 10 s.',
  }),
  gcIntervalMs: setting(durationMs(10, 86_400_000).default(60_000), {
    env: 'BERTH_GC_INTERVAL_MS',
    replaces: ['BERTH_GC_INTERVAL_SECONDS'],
    description: 'How often the garbage collector looks for orphaned tasks.',
  }),
  toolSecretKey: toolSecretKeySetting(
    "The key each launch's tool secret is derived from (HMAC of instance uid and attempt); the proxy must hold the same key. Changing it cuts the proxy off from running tools until they are launched again.",
  ),
  gatePort: setting(integer(1, 65535).default(GATE_PORT), {
    env: 'BERTH_GATE_PORT',
    description:
      "The port the gate (sidecars/gate) publishes in every tool's task; the proxy connects to it. A ToolDefinition's spec.port must differ.",
  }),
  gateImage: setting(
    z
      .string()
      .regex(/^[^\s]+$/, 'must be an image reference without spaces')
      .default('berth/gate:latest'),
    {
      env: 'BERTH_GATE_IMAGE',
      description:
        "The gate's container image (sidecars/gate), registered in every tool's task definition.",
    },
  ),
  gcGraceMs: setting(durationMs(0, 86_400_000).default(60_000), {
    env: 'BERTH_GC_GRACE_MS',
    replaces: ['BERTH_GC_GRACE_SECONDS'],
    description:
      'The garbage collector leaves tasks younger than this alone (a launch may not have written its status yet).',
  }),
});

export interface ReconcilerConfig {
  /** `{tool, namespace, name, shared}` -> the tool's public URL. */
  publicUrl(p: { tool: string; namespace: string; name: string; shared: boolean }): string;
  keepRevisions: number;
  toolStopTimeoutSeconds: number;
  /** Starting and stopping tasks (BERTH_TASK_POLL_MS). */
  pollIntervalMs: number;
  /** Tasks of Ready instances (BERTH_READY_TASK_POLL_MS). */
  readyPollIntervalMs: number;
  gcIntervalMs: number;
  gcGraceMs: number;
  /** BERTH_TOOL_SECRET_KEY: never logged, never written anywhere. */
  toolSecretKey: Buffer;
  /** The gate's published port in every task (BERTH_GATE_PORT). */
  gatePort: number;
  gateImage: string;
}

/** Reads the reconcilers' settings; throws ConfigError naming each bad variable. */
export function loadReconcilerConfig(
  env: Record<string, string | undefined> = process.env,
): ReconcilerConfig {
  const e = loadSettings(reconcilerConfigSchema, env, { component: 'reconciler' });
  return {
    publicUrl: ({ tool, namespace, name, shared }) =>
      fill(shared ? e.sharedUrlTemplate : e.publicUrlTemplate, {
        tool,
        namespace,
        name,
        baseDomain: e.baseDomain,
        toolDomain: e.toolDomain ?? e.baseDomain,
      }),
    keepRevisions: e.keepRevisions,
    // ECS counts the stop timeout in seconds.
    toolStopTimeoutSeconds: e.toolStopTimeoutMs / 1000,
    pollIntervalMs: e.pollIntervalMs,
    readyPollIntervalMs: e.readyPollIntervalMs,
    gcIntervalMs: e.gcIntervalMs,
    gcGraceMs: e.gcGraceMs,
    toolSecretKey: e.toolSecretKey,
    gatePort: e.gatePort,
    gateImage: e.gateImage,
  };
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}
