// berth diff -f FILE: what apply would change, as a unified diff of the live
// object against the live object with the manifest merged onto it (server-owned
// fields and status left out, defaults filled in by the kind's schema).
// Exit 0: no differences; 1: differences; 2: an error.
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { ApiError, type BerthObject, type KindInfo } from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { describeSource, readManifests } from '../manifests.ts';
import { mergePatch } from '../mergepatch.ts';
import { action, errorMessage } from '../run.ts';
import { resolveManifest } from './apply.ts';

const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'managedFields',
];

/** The parts of an object a manifest controls, with the kind's defaults applied. */
export function comparable(info: KindInfo, obj: unknown): Record<string, unknown> | undefined {
  if (obj === undefined) return undefined;
  let value = obj as Record<string, unknown>;
  const parsed = info.schema.safeParse(value);
  if (parsed.success) value = parsed.data as Record<string, unknown>;
  const out: Record<string, unknown> = { ...value };
  delete out.status;
  const meta = { ...((out.metadata as Record<string, unknown>) ?? {}) };
  for (const k of SERVER_METADATA) delete meta[k];
  if (meta.annotations && typeof meta.annotations === 'object') {
    const ann = Object.fromEntries(
      Object.entries(meta.annotations).filter(([k]) => !k.includes('last-applied')),
    );
    if (Object.keys(ann).length > 0) meta.annotations = ann;
    else delete meta.annotations;
  }
  out.metadata = meta;
  return out;
}

function toText(obj: Record<string, unknown> | undefined): string {
  return obj === undefined ? '' : stringify(obj, { sortMapEntries: true, lineWidth: 0 });
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('show what apply would change (exit 0: nothing, 1: differences, >1: error)')
    .requiredOption('-f, --filename <path...>', 'file, directory or - (stdin)')
    .option('-R, --recursive', 'also read subdirectories of a directory')
    .option('-n, --namespace <ns>', 'namespace for namespaced objects that do not name one')
    .action(
      action(async (opts: { filename: string[]; recursive?: boolean; namespace?: string }) => {
        const manifests = await readManifests(opts.filename, { recursive: opts.recursive });
        const ctx = await Context.load();
        let different = false;
        for (const m of manifests) {
          let r: Awaited<ReturnType<typeof resolveManifest>>;
          let live: BerthObject | undefined;
          try {
            r = await resolveManifest(ctx, m, opts.namespace);
            live = await ctx.client
              .get<BerthObject>(resourcePath(r.info, r.namespace, r.name))
              .catch((err: unknown) => {
                if (err instanceof ApiError && err.code === 404) return undefined;
                throw err;
              });
          } catch (err) {
            throw new CliError(`${describeSource(m)}: ${errorMessage(err)}`, 2);
          }
          const before = toText(comparable(r.info, live));
          const after = toText(comparable(r.info, live ? mergePatch(live, r.object) : r.object));
          if (before === after) continue;
          different = true;
          const id = `${r.info.kind}${r.namespace ? `.${r.namespace}` : ''}.${r.name}`;
          process.stdout.write(
            createTwoFilesPatch(`LIVE/${id}`, `MERGED/${id}`, before, after, undefined, undefined, {
              context: 3,
            }),
          );
        }
        if (different) process.exitCode = 1;
      }, 2),
    );
}
