// Waiting for one object to reach a state, by watch rather than polling:
// remember the collection's resourceVersion, read the object, and if it is not
// there yet, watch the collection from that resourceVersion until it is (or the
// timeout passes). 410 Gone or a closed stream start the cycle again.
import { ApiError, type BerthObject, type KindInfo } from '../crds/index.ts';
import { type ApiClient, type ListResult, resourcePath } from './client.ts';
import { CliError } from './errors.ts';

/** Given the object (undefined once it is gone), true when the wait is over. */
export type Check = (obj: BerthObject | undefined) => boolean;

class WaitTimeout extends CliError {
  constructor(info: KindInfo, name: string) {
    super(`timed out waiting for the condition on ${info.plural}/${name}`);
  }
}

async function getOrUndefined(
  client: ApiClient,
  path: string,
  signal: AbortSignal,
): Promise<BerthObject | undefined> {
  try {
    return (await client.send<BerthObject>('GET', path, { signal })).body;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

export async function waitFor(
  client: ApiClient,
  info: KindInfo,
  ns: string | undefined,
  name: string,
  check: Check,
  timeoutMs: number,
): Promise<BerthObject | undefined> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const collection = resourcePath(info, ns);
  try {
    for (;;) {
      const head = (
        await client.send<ListResult>('GET', collection, {
          query: { limit: 1 },
          signal: abort.signal,
        })
      ).body;
      const rv = head.metadata?.resourceVersion;
      const current = await getOrUndefined(client, resourcePath(info, ns, name), abort.signal);
      if (check(current)) return current;
      try {
        for await (const ev of client.watch(collection, {
          resourceVersion: rv,
          signal: abort.signal,
        })) {
          if (ev.type === 'BOOKMARK' || ev.object?.metadata?.name !== name) continue;
          const obj = ev.type === 'DELETED' ? undefined : ev.object;
          if (check(obj)) return obj;
        }
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 410)) throw err;
      }
    }
  } catch (err) {
    if (abort.signal.aborted) throw new WaitTimeout(info, name);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
