// The gate's environment, read by the one settings loader (settings/). The
// controllers give BERTH_TOOL_SECRET and BERTH_GATE_UPSTREAM_PORT per launch as
// RunTask overrides; BERTH_GATE_PORT is in the task definition; HOST is set by
// ecs-local (the task's own address) and absent on Fargate.
import { z } from 'zod';
import { integer, loadSettings, setting } from '../../settings/index.ts';

export const gateConfigSchema = z.object({
  secret: setting(z.string().min(16, 'must be at least 16 characters'), {
    env: 'BERTH_TOOL_SECRET',
    shownDefault: 'none (required; set by the controllers per launch)',
    description:
      "The launch's tool secret: a request is admitted only when its `x-berth-tool-secret` header equals it.",
  }),
  upstreamPort: setting(integer(1, 65535), {
    env: 'BERTH_GATE_UPSTREAM_PORT',
    shownDefault: "none (required; the ToolDefinition's spec.port)",
    description: 'The port the tool listens on inside the task; admitted requests go there.',
  }),
  port: setting(integer(1, 65535).default(8000), {
    env: 'BERTH_GATE_PORT',
    description:
      "The task's published port the gate listens on (the controllers' BERTH_GATE_PORT).",
  }),
  host: setting(z.string().min(1).optional(), {
    env: 'HOST',
    shownDefault: 'none: listen on 0.0.0.0, forward to 127.0.0.1',
    description:
      "The task's own address (ecs-local sets it): the gate listens there and finds the tool there too.",
  }),
});

export interface GateConfig {
  secret: string;
  /** Where to listen. */
  listenHost: string;
  port: number;
  /** Where the tool is. */
  upstreamHost: string;
  upstreamPort: number;
}

/** Reads the gate's settings; throws ConfigError naming each bad variable (never the secret's value). */
export function loadGateConfig(env: Record<string, string | undefined> = process.env): GateConfig {
  const e = loadSettings(gateConfigSchema, env, { component: 'gate' });
  return {
    secret: e.secret,
    listenHost: e.host ?? '0.0.0.0',
    port: e.port,
    upstreamHost: e.host ?? '127.0.0.1',
    upstreamPort: e.upstreamPort,
  };
}
