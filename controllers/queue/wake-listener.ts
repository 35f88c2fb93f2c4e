// One LISTEN connection per manager on RECONCILE_CHANNEL: an enqueue's NOTIFY
// (delivered at its commit) wakes the loop of that kind at once, so the latency from
// a store write to the reconcile is a round trip, not a polling interval. After a
// lost connection it reconnects with backoff and wakes every loop (notifications
// sent meanwhile are lost; the jobs are not).
import pg from 'pg';
import { RECONCILE_CHANNEL } from './names.ts';

export interface WakeListener {
  close(): Promise<void>;
}

export function startWakeListener(
  config: pg.ClientConfig,
  onWake: (kind: string | undefined) => void,
  onError: (err: unknown) => void = () => {},
): Promise<WakeListener> {
  let closed = false;
  let client: pg.Client | undefined;
  let retryMs = 100;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ ...config, application_name: 'berth-controller-listen' });
    c.on('notification', (msg) => onWake(msg.payload || undefined));
    c.on('error', (err) => {
      onError(err);
      void c.end().catch(() => {});
      if (client === c) reconnect();
    });
    await c.connect();
    await c.query(`listen ${RECONCILE_CHANNEL}`);
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    retryMs = 100;
  };

  const reconnect = () => {
    client = undefined;
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(
        () => onWake(undefined),
        (err: unknown) => {
          onError(err);
          retryMs = Math.min(retryMs * 2, 5_000);
          reconnect();
        },
      );
    }, retryMs);
  };

  return connect().then(() => ({
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  }));
}
