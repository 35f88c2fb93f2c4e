// berth describe KIND NAME [-n NS]: an object in full, with its conditions and
// recent events.
import type { Command } from 'commander';
import { ApiError, type BerthObject, kindInfo } from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { eventsFor, renderDescribe } from '../describe.ts';
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
          }
          if (!first) process.stdout.write('\n\n');
          first = false;
          process.stdout.write(renderDescribe({ object, events, eventsError }));
        }
      }),
    );
}
