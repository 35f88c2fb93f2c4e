// berth get KIND [NAME...] [-n NS | -A] [-l SELECTOR] [-o wide|yaml|json|name] [-w]:
// kubectl's get, with the kind's printer columns. Lists are read page by page.
import type { Command } from 'commander';
import { ApiError, type BerthObject, type KindInfo } from '../../crds/index.ts';
import { type ListResult, resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { parseTargets } from '../kinds.ts';
import {
  buildTable,
  columnWidths,
  formatRow,
  OUTPUT_FORMATS,
  type OutputFormat,
  renderObjects,
  renderTable,
  type Table,
} from '../printers.ts';
import { action, printError } from '../run.ts';

interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  output?: string;
  watch?: boolean;
  watchOnly?: boolean;
  chunkSize: string;
  /** false with --no-headers. */
  headers?: boolean;
}

function parseOutput(output: string | undefined): OutputFormat {
  if (output === undefined) return 'table';
  if (!OUTPUT_FORMATS.includes(output)) {
    throw new CliError(
      `unable to match a printer suitable for the output format "${output}", allowed formats are: ${OUTPUT_FORMATS.join(',')}`,
    );
  }
  return output as OutputFormat;
}

function noResources(info: KindInfo, ns: string | undefined): string {
  return info.namespaced && ns
    ? `No resources found in ${ns} namespace.\n`
    : 'No resources found\n';
}

export function registerGet(program: Command): void {
  program
    .command('get')
    .description(
      'list objects of a kind, or show some by name (kinds: tooldefinitions/td, toolinstances/ti, events/ev, datasets/ds, databases/db, accessrequests/ar)',
    )
    .argument('<kind>', 'kind, plural, singular or short name; or KIND/NAME')
    .argument('[names...]', 'names of the objects to show')
    .option('-n, --namespace <ns>', 'namespace (default: your own)')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-l, --selector <selector>', 'label selector, e.g. app=x,tier!=db')
    .option('-o, --output <format>', 'wide | yaml | json | name')
    .option('-w, --watch', 'after listing, watch for changes')
    .option('--watch-only', 'watch for changes without listing first')
    .option('--no-headers', 'omit the header row')
    .option('--chunk-size <n>', 'page size when listing (0: one request)', '500')
    .action(
      action(async (kind: string, names: string[], opts: GetOptions) => get(kind, names, opts)),
    );
}

async function get(kind: string, names: string[], opts: GetOptions): Promise<void> {
  const { info, targets } = parseTargets([kind, ...names]);
  if (!info) throw new CliError('you must specify the type of resource to get');
  if (targets.some((t) => t.info !== info))
    throw new CliError('all KIND/NAME arguments of one get must be of the same kind');
  if (opts.allNamespaces && opts.namespace) throw new CliError('-A and -n cannot be used together');
  if (targets.length > 0 && opts.selector)
    throw new CliError('a name and a label selector (-l) cannot be used together');
  const format = parseOutput(opts.output);
  const chunkSize = Number(opts.chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < 0)
    throw new CliError(`--chunk-size must be a whole number, got "${opts.chunkSize}"`);
  const ctx = await Context.load();
  const allNamespaces = opts.allNamespaces === true && info.namespaced;
  const ns = await ctx.namespaceFor(info, opts);

  let objects: BerthObject[] = [];
  let resourceVersion: string | undefined;
  let failed = false;
  if (!opts.watchOnly) {
    if (targets.length > 0) {
      for (const t of targets) {
        try {
          objects.push(await ctx.client.get<BerthObject>(resourcePath(info, ns, t.name)));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          failed = true;
          printError(err);
        }
      }
    } else {
      const list = await ctx.client.listAll(resourcePath(info, ns), {
        labelSelector: opts.selector,
        chunkSize,
      });
      objects = list.items;
      resourceVersion = list.metadata.resourceVersion;
    }
  }

  const single = targets.length === 1 && !opts.watch;
  const table: Table | undefined =
    format === 'table' || format === 'wide'
      ? buildTable(info, objects, { wide: format === 'wide', allNamespaces })
      : undefined;
  if (!opts.watchOnly) {
    if (objects.length === 0 && targets.length === 0 && (table || format === 'name')) {
      process.stderr.write(noResources(info, ns));
    } else if (table) {
      if (objects.length > 0)
        process.stdout.write(renderTable(table, { noHeaders: opts.headers === false }));
    } else if (objects.length > 0 || targets.length === 0) {
      process.stdout.write(
        renderObjects(info, objects, format as 'yaml' | 'json' | 'name', single),
      );
    }
  }
  if (failed) process.exitCode = 1;
  if (!opts.watch && !opts.watchOnly) return;

  // Watch: each change prints one more row, lined up with the table above.
  const widths = table ? columnWidths(table) : [];
  let headerPrinted = objects.length > 0 && opts.headers !== false;
  const wanted = new Set(targets.map((t) => t.name));
  for (;;) {
    try {
      for await (const ev of ctx.client.watch(resourcePath(info, ns), {
        resourceVersion,
        labelSelector: opts.selector,
      })) {
        if (ev.type === 'BOOKMARK') {
          resourceVersion = ev.object?.metadata?.resourceVersion ?? resourceVersion;
          continue;
        }
        const obj = ev.object;
        resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
        if (wanted.size > 0 && !wanted.has(obj.metadata.name)) continue;
        if (format === 'table' || format === 'wide') {
          const t = buildTable(info, [obj], { wide: format === 'wide', allNamespaces });
          const w = columnWidths(t).map((x, i) => Math.max(x, widths[i] ?? 0));
          if (!headerPrinted && opts.headers !== false) {
            process.stdout.write(formatRow(t.header, w) + '\n');
            headerPrinted = true;
          }
          process.stdout.write(formatRow(t.rows[0]!, w) + '\n');
        } else {
          process.stdout.write(
            renderObjects(info, [obj], format as 'yaml' | 'json' | 'name', true),
          );
          if (format === 'yaml') process.stdout.write('---\n');
        }
      }
    } catch (err) {
      // History moved past us: list again for a fresh resourceVersion and go on watching.
      if (!(err instanceof ApiError && err.code === 410)) throw err;
      const head = await ctx.client.get<ListResult>(resourcePath(info, ns), {
        labelSelector: opts.selector,
        limit: 1,
      });
      resourceVersion = head.metadata?.resourceVersion;
    }
  }
}
