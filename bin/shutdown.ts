// SIGINT/SIGTERM: run the stop function once; a second signal exits at once.
import type { Logger } from 'pino';

/**
 * Installs the signal handlers and returns a quiet trigger for the same stop (a
 * cluster worker told to stop by its primary): a trigger after a signal, or a
 * signal after a trigger, does not count as a second signal.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): (reason: string) => void {
  let stopping = false;
  const begin = (reason: string): boolean => {
    if (stopping) return false;
    stopping = true;
    log.info({ reason }, 'stopping');
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
    return true;
  };
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(1);
    }
    signalled = true;
    begin(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return (reason) => void begin(reason);
}
