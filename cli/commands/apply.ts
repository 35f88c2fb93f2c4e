// berth apply -f FILE|DIR|- [-R]: create or update each document, printing
// `tooldefinition/jupyterlab created|configured|unchanged`. A document that
// fails is reported with its file and index; the others still apply.
import type { Command } from 'commander';
import { ApiError, type BerthObject, type KindInfo } from '../../crds/index.ts';
import { type ApiClient, resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { kindOrThrow } from '../kinds.ts';
import { berthDocuments, describeSource, type Manifest, readManifests } from '../manifests.ts';
import { objectRef } from '../printers.ts';
import { action, errorMessage } from '../run.ts';

export const FIELD_MANAGER = 'berth-cli';

export interface Resolved {
  info: KindInfo;
  name: string;
  namespace: string | undefined;
  object: Record<string, unknown>;
}

/** Kind, name and namespace of a manifest; namespaced kinds default to -n, then the user's own. */
export async function resolveManifest(
  ctx: Context,
  m: Manifest,
  namespace: string | undefined,
): Promise<Resolved> {
  const obj = m.object;
  if (typeof obj.kind !== 'string' || !obj.kind) throw new CliError('kind is required');
  if (typeof obj.apiVersion !== 'string' || !obj.apiVersion)
    throw new CliError('apiVersion is required');
  const info = kindOrThrow(obj.kind);
  const meta = (
    typeof obj.metadata === 'object' && obj.metadata !== null ? obj.metadata : {}
  ) as Record<string, unknown>;
  if (typeof meta.name !== 'string' || !meta.name) throw new CliError('metadata.name is required');
  let ns: string | undefined;
  if (info.namespaced) {
    const own = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : undefined;
    if (own && namespace && own !== namespace) {
      throw new CliError(
        `the namespace from the manifest ("${own}") does not match -n ("${namespace}")`,
      );
    }
    ns = own ?? namespace ?? (await ctx.defaultNamespace());
  }
  const object = info.namespaced ? { ...obj, metadata: { ...meta, namespace: ns } } : obj;
  return { info, name: meta.name, namespace: ns, object };
}

async function getOrUndefined(client: ApiClient, path: string): Promise<BerthObject | undefined> {
  try {
    return await client.get<BerthObject>(path);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

/** Applies one object and says what happened. */
export async function applyObject(
  client: ApiClient,
  r: Resolved,
): Promise<'created' | 'configured' | 'unchanged'> {
  const path = resourcePath(r.info, r.namespace, r.name);
  const before = await getOrUndefined(client, path);
  const res = await client.send<BerthObject>('PATCH', path, {
    query: { fieldManager: FIELD_MANAGER },
    body: r.object,
    contentType: 'application/apply-patch+yaml',
  });
  if (res.status === 201 || !before) return 'created';
  return res.body?.metadata?.resourceVersion === before.metadata.resourceVersion
    ? 'unchanged'
    : 'configured';
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description(
      'create or update objects from manifests (YAML or JSON; files, directories or - for stdin)',
    )
    .requiredOption('-f, --filename <path...>', 'file, directory or - (stdin)')
    .option('-R, --recursive', 'also read subdirectories of a directory')
    .option('-n, --namespace <ns>', 'namespace for namespaced objects that do not name one')
    .action(
      action(async (opts: { filename: string[]; recursive?: boolean; namespace?: string }) => {
        const manifests = berthDocuments(
          await readManifests(opts.filename, { recursive: opts.recursive }),
        );
        const ctx = await Context.load();
        let failed = 0;
        for (const m of manifests) {
          try {
            const r = await resolveManifest(ctx, m, opts.namespace);
            const result = await applyObject(ctx.client, r);
            process.stdout.write(`${objectRef(r.info, r.name)} ${result}\n`);
          } catch (err) {
            // A server we cannot reach or a token it refuses fails every document the same way.
            if (
              err instanceof CliError &&
              /cannot connect|cannot resolve|did not answer/.test(err.message)
            )
              throw err;
            if (err instanceof ApiError && err.code === 401) throw err;
            failed++;
            process.stderr.write(`error: ${describeSource(m)}: ${errorMessage(err)}\n`);
          }
        }
        if (failed > 0) process.exitCode = 1;
      }),
    );
}
