// A change of a user's groups reaches their dataset grants within moments: the
// users table's trigger NOTIFYs CREDENTIALS_CHANNEL when a user's groups (or
// admin flag, or disabled state) change, whoever wrote them (sign-in, `berth
// user`, SQL); this runnable LISTENs, and when the users' groups differ from
// what it last saw, enqueues every Dataset (one queued job per Dataset; their
// reconciles set the memberships). The channel also carries sign-outs and token
// revocations, hence the comparison: a digest of every user's groups, one row.
// After a (re)connection it enqueues every Dataset once, since a change may have
// come while nobody listened; the Datasets' own periodic resync stays the backstop.
import { CREDENTIALS_CHANNEL, Listener } from '../../store/index.ts';
import type { Runnable } from '../reconcile.ts';
import { listDatasets } from './access.ts';

type RunnableContext = Parameters<Runnable['start']>[0];

const GROUPS_DIGEST = `select md5(coalesce(json_agg(json_build_array(name, groups) order by name)::text, ''))
  as digest from users`;

export function createGroupWatch(): Runnable {
  return {
    name: 'group-watch',
    start: async (ctx: RunnableContext) => {
      let seen: string | undefined;
      let running = false;
      let again = false;
      let reconnected = false;

      const enqueueDatasets = async (priority: 'user' | 'system') => {
        for (const ds of await listDatasets(ctx.store))
          await ctx.enqueue({ kind: 'Dataset', name: ds.metadata.name }, { priority });
      };
      // One comparison at a time; notifications meanwhile make one more.
      const check = async () => {
        if (running) {
          again = true;
          return;
        }
        running = true;
        try {
          do {
            again = false;
            const { rows } = await ctx.store.pool.query<{ digest: string }>(GROUPS_DIGEST);
            const digest = rows[0]!.digest;
            const changed = seen !== undefined && digest !== seen;
            seen = digest;
            if (changed || reconnected) {
              const priority = changed ? 'user' : 'system';
              reconnected = false;
              await enqueueDatasets(priority);
            }
          } while (again && !ctx.signal.aborted);
        } catch (err) {
          ctx.log.warn(
            { err: (err as Error).message },
            "could not follow a change of users' groups; the Datasets' resync will",
          );
        } finally {
          running = false;
        }
      };

      const listener = new Listener(ctx.store.pool.options, {
        channel: CREDENTIALS_CHANNEL,
        applicationName: 'berth-controllers-groups',
        onNotify: () => void check(),
        onConnected: () => {
          reconnected = true;
          void check();
        },
        onError: (err) =>
          ctx.log.warn(
            { err: String(err) },
            'group-change listener lost its connection; reconnecting',
          ),
      });
      listener.startInBackground();
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await listener.close();
    },
  };
}
