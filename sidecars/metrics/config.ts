// The metrics sidecar's environment, read by the one settings loader (settings/).
// The controllers give BERTH_TOOL, BERTH_USER and BERTH_INSTANCE to every
// container of a task; the ECS agent (or ecs-local) gives
// ECS_CONTAINER_METADATA_URI_V4; ecs-local sets BERTH_BIND_HOST to the task's
// own address (on Fargate it is unset: Prometheus reaches the task's IP).
import { z } from 'zod';
import { integer, loadSettings, setting } from '../../settings/index.ts';

const label = (what: string) =>
  z.string().min(1, `must be ${what}`).max(253, 'must be at most 253 characters');

export const metricsConfigSchema = z.object({
  port: setting(integer(1, 65535).default(8889), {
    env: 'METRICS_PORT',
    description:
      "The port of `/metrics` and `/healthz` (the ToolDefinition names it as the `metrics` sidecar's `port`).",
  }),
  host: setting(z.string().min(1).default('0.0.0.0'), {
    env: 'BERTH_BIND_HOST',
    shownDefault: "`0.0.0.0` (ecs-local sets the task's address)",
    description: 'The address `/metrics` and `/healthz` listen on.',
  }),
  metadataUri: setting(z.url(), {
    env: 'ECS_CONTAINER_METADATA_URI_V4',
    shownDefault: 'none (required; set by the ECS agent or ecs-local)',
    description:
      'The task metadata endpoint v4; `<uri>/task` and `<uri>/task/stats` are read at each scrape.',
  }),
  tool: setting(label("the ToolDefinition's name"), {
    env: 'BERTH_TOOL',
    shownDefault: 'none (required; set by the controllers)',
    description: 'The `tool` label of every series: the ToolDefinition.',
  }),
  user: setting(label("the instance's namespace"), {
    env: 'BERTH_USER',
    shownDefault: 'none (required; set by the controllers)',
    description: "The `user` label of every series: the instance's namespace.",
  }),
  instance: setting(label("the ToolInstance's name"), {
    env: 'BERTH_INSTANCE',
    shownDefault: 'none (required; set by the controllers)',
    description: 'The `tool_instance` label of every series: the ToolInstance.',
  }),
});

export type MetricsConfig = z.output<typeof metricsConfigSchema>;

/** Reads the sidecar's settings; throws ConfigError naming each bad variable. */
export function loadMetricsConfig(
  env: Record<string, string | undefined> = process.env,
  values?: Partial<MetricsConfig>,
): MetricsConfig {
  return loadSettings(metricsConfigSchema, env, { component: 'metrics sidecar', values });
}
