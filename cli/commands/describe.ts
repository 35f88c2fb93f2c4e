// berth describe KIND NAME [-n NS]: an object in full, with its conditions and
// recent events.
import type { Command } from 'commander';
import {
  type AccessRequest,
  ApiError,
  type BerthObject,
  DATASET_LABEL,
  type Dataset,
  kindInfo,
} from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { eventsFor, renderDescribe } from '../describe.ts';
import { renderDatasetDescribe } from '../describe-dataset.ts';
import { CliError } from '../errors.ts';
import { parseTargets } from '../kinds.ts';
import { action, errorMessage } from '../run.ts';

export function registerDescribe(program: Command): void {
  program
    .command('describe')
    .description('show an object in detail, with its conditions and recent events')
    .argument('<kind>', 'kind (or KIND/NAME)')
    .argument('[names...]', 'names of the objects')
    .option('-n, --namespace <ns>', 'namespace (default: your own)')
    .action(
      action(async (kind: string, names: string[], opts: { namespace?: string }) => {
        const { targets } = parseTargets([kind, ...names]);
        if (targets.length === 0)
          throw new CliError('describe needs a name: berth describe KIND NAME');
        const ctx = await Context.load();
        let first = true;
        for (const t of targets) {
          const ns = await ctx.namespaceFor(t.info, opts);
          const object = await ctx.client.get<BerthObject>(resourcePath(t.info, ns, t.name));
          let events: BerthObject[] | undefined;
          let eventsError: string | undefined;
          let eventsHidden = false;
          try {
            // Cluster-scoped objects' events live outside any one namespace: ask all of them.
            const where = object.metadata.namespace ?? (t.info.namespaced ? ns : undefined);
            const list = await ctx.client.listAll(resourcePath(kindInfo('Event'), where), {
              chunkSize: 500,
            });
            events = eventsFor(object, list.items);
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            eventsError = errorMessage(err);
            // A Dataset's events live outside any user's namespace: its readers
            // are told they are the admins', not shown an error.
            eventsHidden = err.code === 403;
          }
          if (!first) process.stdout.write('\n\n');
          first = false;
          if (object.kind === 'Dataset') {
            const requests = await requestsFor(ctx, object.metadata.name);
            process.stdout.write(
              renderDatasetDescribe({
                dataset: object as unknown as Dataset,
                ...requests,
                events,
                ...(eventsHidden ? { eventsHidden } : { eventsError }),
              }),
            );
          } else process.stdout.write(renderDescribe({ object, events, eventsError }));
        }
      }),
    );
}

/**
 * The AccessRequests for a Dataset that the caller may see: across every
 * namespace for admins and its approvers (the API filters), else the caller's own.
 */
async function requestsFor(
  ctx: Context,
  dataset: string,
): Promise<{ requests?: AccessRequest[]; requestsError?: string }> {
  const info = kindInfo('AccessRequest');
  const labelSelector = `${DATASET_LABEL}=${dataset}`;
  const mine = (list: { items: BerthObject[] }) => list.items as unknown as AccessRequest[];
  try {
    try {
      return {
        requests: mine(await ctx.client.listAll(resourcePath(info, undefined), { labelSelector })),
      };
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 403)) throw err;
    }
    const own = await ctx.defaultNamespace();
    return { requests: mine(await ctx.client.listAll(resourcePath(info, own), { labelSelector })) };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { requestsError: errorMessage(err) };
  }
}
