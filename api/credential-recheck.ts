// Revocation reaches open watches: when the database says credentials changed
// (CREDENTIALS_CHANNEL: a session or token deleted, a user disabled or their
// rights changed), and every `intervalMs` besides (a token expiring notifies
// nobody, and NOTIFY is lost while the listening connection is down), the
// credentials behind open watches are checked again in two queries, and the
// watches of those no longer valid end their streams.
import { CREDENTIALS_CHANNEL, type Identity, Listener, type Pool } from '../store/index.ts';
import type { WatchLimiter } from './watch-limiter.ts';

export interface CredentialRecheckOptions {
  pool: Pool;
  identity: Identity;
  watches: WatchLimiter;
  intervalMs: number;
  onError(err: unknown, what: string): void;
}

export interface CredentialRecheck {
  /** Checks now (or once more after the check under way); resolves when done. */
  recheck(): Promise<void>;
  close(): Promise<void>;
}

export function startCredentialRecheck(o: CredentialRecheckOptions): CredentialRecheck {
  let running: Promise<void> | undefined;
  let again = false;

  const once = async (): Promise<void> => {
    const { tokenIds, sessionIds } = o.watches.credentials();
    if (tokenIds.length === 0 && sessionIds.length === 0) return;
    const checked = new Set([...tokenIds.map((i) => `t:${i}`), ...sessionIds.map((i) => `s:${i}`)]);
    const live = await o.identity.liveCredentials(tokenIds, sessionIds);
    o.watches.endRevoked(live, checked);
  };

  // One check at a time; notifications during one fold into one more after it.
  const recheck = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await once();
        } while (again);
      } catch (err) {
        o.onError(err, 'credential re-check');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const listener = new Listener(o.pool.options, {
    channel: CREDENTIALS_CHANNEL,
    applicationName: 'berth-api-credentials',
    onNotify: () => void recheck(),
    onConnected: () => void recheck(),
    onError: (err) => o.onError(err, 'credential-change listener'),
  });
  listener.startInBackground();
  const timer = setInterval(() => void recheck(), o.intervalMs);
  timer.unref();

  return {
    recheck,
    async close() {
      clearInterval(timer);
      await listener.close();
      await running;
    },
  };
}
