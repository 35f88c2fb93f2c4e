// berth diff -f FILE: what apply would change, as a unified diff of the live
// object against the server's dry-run apply of the manifest (kubectl diff's
// approach), with server-owned metadata, the last-applied annotation and status
// left out. Exit 0: no differences; 1: differences; 2: an error.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ApiError, type BerthObject, type KindInfo } from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { berthDocuments, describeSource, readManifests } from '../manifests.ts';
import { mergePatch } from '../mergepatch.ts';
import { action, errorMessage } from '../run.ts';
import { FIELD_MANAGER, type Resolved, resolveManifest } from './apply.ts';

const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'managedFields',
];

/** The parts of an object a manifest controls, with the kind's defaults applied. */
function comparable(info: KindInfo, obj: unknown): Record<string, unknown> | undefined {
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

async function getOrUndefined(ctx: Context, path: string): Promise<BerthObject | undefined> {
  try {
    return await ctx.client.get<BerthObject>(path);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

/**
 * What the object would be after apply: the server's answer to a dry-run apply
 * (its own merge, defaults and validation), or, from a server without dry-run,
 * the manifest merged onto the live object here.
 */
async function predictApply(
  ctx: Context,
  r: Resolved,
  live: BerthObject | undefined,
): Promise<unknown> {
  try {
    const res = await ctx.client.send<BerthObject>(
      'PATCH',
      resourcePath(r.info, r.namespace, r.name),
      {
        query: { fieldManager: FIELD_MANAGER, dryRun: 'All' },
        body: r.object,
        contentType: 'application/apply-patch+yaml',
      },
    );
    return res.body;
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 400 && /dryRun/.test(err.message))) throw err;
    return live ? mergePatch(live, r.object) : r.object;
  }
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
        const manifests = berthDocuments(
          await readManifests(opts.filename, { recursive: opts.recursive }),
        );
        const ctx = await Context.load();
        let different = false;
        for (const m of manifests) {
          let r: Awaited<ReturnType<typeof resolveManifest>>;
          let live: BerthObject | undefined;
          let merged: unknown;
          try {
            r = await resolveManifest(ctx, m, opts.namespace);
            live = await getOrUndefined(ctx, resourcePath(r.info, r.namespace, r.name));
            merged = await predictApply(ctx, r, live);
          } catch (err) {
            throw new CliError(`${describeSource(m)}: ${errorMessage(err)}`, 2);
          }
          const before = toText(comparable(r.info, live));
          const after = toText(comparable(r.info, merged));
          if (before === after) continue;
          different = true;
          const id = `${r.info.kind}${r.namespace ? `.${r.namespace}` : ''}.${r.name}`;
          // Loaded here: only diff needs it, and every other command starts faster without it.
          const { createTwoFilesPatch } = await import('diff');
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
