// berth delete KIND NAME... | -f FILE [--wait] [--timeout 30s]: delete objects;
// with --wait, block (by watch) until they are really gone, finalizers and all.
import type { Command } from 'commander';
import { ApiError, type KindInfo } from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { parseTargets } from '../kinds.ts';
import { berthDocuments, describeSource, readManifests } from '../manifests.ts';
import { action, errorMessage, parseTimeout } from '../run.ts';
import { waitFor } from '../waiter.ts';
import { resolveManifest } from './apply.ts';

interface DeleteOptions {
  filename?: string[];
  recursive?: boolean;
  namespace?: string;
  wait?: boolean;
  timeout: string;
  ignoreNotFound?: boolean;
}

interface Victim {
  info: KindInfo;
  name: string;
  namespace: string | undefined;
  source?: string;
}

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description('delete objects by kind and name, or those in manifests (-f)')
    .argument('[kind]', 'kind (or KIND/NAME)')
    .argument('[names...]', 'names of the objects')
    .option('-f, --filename <path...>', 'delete the objects these manifests describe')
    .option('-R, --recursive', 'also read subdirectories of a -f directory')
    .option('-n, --namespace <ns>', 'namespace (default: your own)')
    .option('--wait', 'wait until the objects are gone (finalizers may delay it)')
    .option('--timeout <duration>', 'how long --wait waits', '30s')
    .option('--ignore-not-found', 'treat "not found" as success')
    .action(
      action(async (kind: string | undefined, names: string[], opts: DeleteOptions) =>
        del(kind, names, opts),
      ),
    );
}

async function del(kind: string | undefined, names: string[], opts: DeleteOptions): Promise<void> {
  const timeoutMs = parseTimeout(opts.timeout);
  if (kind && opts.filename) throw new CliError('give either KIND NAME or -f FILE, not both');
  if (!kind && !opts.filename) throw new CliError('you must specify KIND NAME or -f FILE');
  const ctx = await Context.load();
  const victims: Victim[] = [];
  if (opts.filename) {
    for (const m of berthDocuments(
      await readManifests(opts.filename, { recursive: opts.recursive }),
    )) {
      try {
        const r = await resolveManifest(ctx, m, opts.namespace);
        victims.push({
          info: r.info,
          name: r.name,
          namespace: r.namespace,
          source: describeSource(m),
        });
      } catch (err) {
        throw new CliError(`${describeSource(m)}: ${errorMessage(err)}`);
      }
    }
  } else {
    const { targets } = parseTargets([kind!, ...names]);
    if (targets.length === 0)
      throw new CliError(
        'delete needs a name: berth delete KIND NAME (deleting every object of a kind is not supported)',
      );
    for (const t of targets)
      victims.push({ info: t.info, name: t.name, namespace: await ctx.namespaceFor(t.info, opts) });
  }
  let failed = false;
  const deleted: Victim[] = [];
  for (const v of victims) {
    try {
      await ctx.client.send('DELETE', resourcePath(v.info, v.namespace, v.name));
      process.stdout.write(`${v.info.singular} "${v.name}" deleted\n`);
      deleted.push(v);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404 && opts.ignoreNotFound) continue;
      if (!(err instanceof ApiError)) throw err;
      failed = true;
      process.stderr.write(`error: ${v.source ? `${v.source}: ` : ''}${errorMessage(err)}\n`);
    }
  }
  if (opts.wait) {
    for (const v of deleted)
      await waitFor(ctx.client, v.info, v.namespace, v.name, (obj) => obj === undefined, timeoutMs);
  }
  if (failed) process.exitCode = 1;
}
