// One LISTEN connection per manager on RECONCILE_CHANNEL: an enqueue's NOTIFY
// (delivered at its commit) wakes the loop of that kind at once, so the latency from
// a store write to the reconcile is a round trip, not a polling interval. After a
// lost connection it reconnects with backoff (store/listener.ts) and wakes every
// loop (notifications sent meanwhile are lost; the jobs are not).
import type pg from 'pg';
import { Listener } from '../../store/index.ts';
import { RECONCILE_CHANNEL } from './names.ts';

export interface WakeListener {
  close(): Promise<void>;
}

/** Resolves once listening; rejects when the first connection fails. */
export async function startWakeListener(
  config: pg.ClientConfig,
  onWake: (kind: string | undefined) => void,
  onError: (err: unknown) => void = () => {},
): Promise<WakeListener> {
  let connected = false;
  const listener = new Listener(config, {
    channel: RECONCILE_CHANNEL,
    applicationName: 'berth-controller-listen',
    onNotify: (payload) => onWake(payload || undefined),
    onConnected: () => {
      // A reconnection: whatever was notified meanwhile is lost, so wake every loop.
      if (connected) onWake(undefined);
      connected = true;
    },
    onError,
  });
  await listener.start();
  return { close: () => listener.close() };
}
