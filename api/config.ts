// The API server's configuration: environment variables parsed by one zod
// schema, with clear errors for bad values.
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const apiConfigSchema = z.object({
  /** Address to listen on; loopback unless told otherwise. */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port; 0 picks a free one. */
  port: int(0, 65535).default(8080),
  /** Largest request body in bytes (413 above it). */
  bodyLimitBytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Longest a non-watch request may take before it answers 504 Timeout. */
  requestTimeoutMs: int(100, 10 * 60_000).default(30_000),
  /** Longest a client may take to send the whole request (slow-client protection). */
  receiveTimeoutMs: int(1000, 10 * 60_000).default(60_000),
  /** Open watches one token may hold at once (429 above it). */
  maxWatchesPerToken: int(1, 10_000).default(20),
  /** Longest a watch stays open; the client reconnects from its last resourceVersion. */
  maxWatchSeconds: int(1, 24 * 3600).default(1800),
  /** Interval between BOOKMARK events (when asked for) and SSE heartbeats. */
  heartbeatMs: int(100, 10 * 60_000).default(15_000),
  /** Deepest JSON/YAML nesting a body may have. */
  maxBodyDepth: int(8, 10_000).default(100),
  /** How often the store's maintenance (history compaction, orphan collection, Event expiry) runs; 0 = never. */
  maintenanceIntervalMs: int(0, 24 * 3600_000).default(60_000),
  /** Events last seen longer ago than this are deleted by the maintenance; 0 keeps them. */
  eventTtlMs: int(0, 365 * 24 * 3600_000).default(24 * 3600_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

const ENV_NAMES: Record<keyof ApiConfig, string> = {
  host: 'BERTH_API_HOST',
  port: 'BERTH_API_PORT',
  bodyLimitBytes: 'BERTH_API_BODY_LIMIT_BYTES',
  requestTimeoutMs: 'BERTH_API_REQUEST_TIMEOUT_MS',
  receiveTimeoutMs: 'BERTH_API_RECEIVE_TIMEOUT_MS',
  maxWatchesPerToken: 'BERTH_API_MAX_WATCHES_PER_TOKEN',
  maxWatchSeconds: 'BERTH_API_MAX_WATCH_SECONDS',
  heartbeatMs: 'BERTH_API_HEARTBEAT_MS',
  maxBodyDepth: 'BERTH_API_MAX_BODY_DEPTH',
  maintenanceIntervalMs: 'BERTH_API_MAINTENANCE_INTERVAL_MS',
  eventTtlMs: 'BERTH_API_EVENT_TTL_MS',
  logLevel: 'BERTH_LOG_LEVEL',
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Config from explicit values over environment variables over defaults. */
export function loadApiConfig(
  overrides: Partial<ApiConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): ApiConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) raw[key] = value;
  }
  const parsed = apiConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof ApiConfig;
      return `${ENV_NAMES[key] ?? key}: ${i.message}`;
    });
    throw new ConfigError(`invalid API configuration: ${lines.join('; ')}`);
  }
  return parsed.data;
}
