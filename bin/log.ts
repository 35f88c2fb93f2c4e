// How `berth up` writes its log: short human-readable lines when stdout is a
// terminal, one JSON object a line otherwise (or as BERTH_LOG_FORMAT says), at
// BERTH_LOG_LEVEL (info; debug adds a line per API request).
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { z } from 'zod';

const logSettingsSchema = z.object({
  BERTH_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  BERTH_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
});

export type LogSettings = z.infer<typeof logSettingsSchema>;

/** The settings, or a message naming the variable that is wrong and what it may be. */
export function loadLogSettings(env: NodeJS.ProcessEnv = process.env): LogSettings | string {
  const parsed = logSettingsSchema.safeParse({
    BERTH_LOG_FORMAT: env.BERTH_LOG_FORMAT || undefined,
    BERTH_LOG_LEVEL: env.BERTH_LOG_LEVEL || undefined,
  });
  if (parsed.success) return parsed.data;
  return parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
}

/** One stream for every part's lines, so they read alike and interleave whole. */
export function logStream(settings: LogSettings): DestinationStream {
  const format = settings.BERTH_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'json') return pino.destination({ dest: 1, sync: true });
  return pretty({
    colorize: Boolean(process.stdout.isTTY),
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name,component,reqId',
    messageFormat: '{if component}{component}: {end}{msg}',
  });
}

export function createLogger(settings: LogSettings, stream: DestinationStream): Logger {
  return pino({ name: 'berth-up', level: settings.BERTH_LOG_LEVEL }, stream);
}
