// berth apply -f FILE|DIR|- [-R]: create or update each document, printing
// `tooldefinition/jupyterlab created|configured|unchanged`. A document that
// fails is reported with its file and index; the others still apply.
import type { Command } from 'commander';
import { ApiError, type BerthObject, type KindInfo } from '../../crds/index.ts';
import { type ApiClient, type ListResult, resourcePath } from '../client.ts';
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

/**
 * The resourceVersion of the store before this run wrote anything: a list's
 * resourceVersion is the global counter (DESIGN.md), so an object applied later
 * with a resourceVersion at or below it was not changed by the apply. This
 * saves a GET per document. Undefined when the list is not allowed; then each
 * document is read before it is applied.
 */
async function storeResourceVersion(client: ApiClient, r: Resolved): Promise<number | undefined> {
  try {
    const head = await client.get<ListResult>(resourcePath(r.info, r.namespace), { limit: 1 });
    const rv = Number(head.metadata?.resourceVersion);
    return Number.isSafeInteger(rv) && rv > 0 ? rv : undefined;
  } catch (err) {
    if (err instanceof ApiError && err.code !== 401) return undefined;
    throw err;
  }
}

/**
 * Applies one object and says what happened: 201 is created; otherwise the
 * object's resourceVersion tells whether this apply changed it (compared with
 * `startRv`, or with the object as read just before). A change someone else
 * makes between the start of the run and this apply reads as configured.
 */
async function applyObject(
  client: ApiClient,
  r: Resolved,
  startRv?: number,
): Promise<'created' | 'configured' | 'unchanged'> {
  const path = resourcePath(r.info, r.namespace, r.name);
  const before = startRv === undefined ? await getOrUndefined(client, path) : undefined;
  const res = await client.send<BerthObject>('PATCH', path, {
    query: { fieldManager: FIELD_MANAGER },
    body: r.object,
    contentType: 'application/apply-patch+yaml',
  });
  if (res.status === 201) return 'created';
  const rv = res.body?.metadata?.resourceVersion;
  if (startRv !== undefined) return Number(rv) > startRv ? 'configured' : 'unchanged';
  if (!before) return 'created';
  return rv === before.metadata.resourceVersion ? 'unchanged' : 'configured';
}

/** Errors that would fail every document the same way: stop at once rather than repeat them. */
function isFatal(err: unknown): boolean {
  if (err instanceof ApiError) return err.code === 401;
  return (
    err instanceof CliError && /cannot connect|cannot resolve|did not answer/.test(err.message)
  );
}

/**
 * Splits documents into batches that may be applied concurrently: consecutive
 * documents of one kind, each object once. A change of kind is a barrier, so a
 * file that lists ToolDefinitions before the ToolInstances that use them
 * applies them in that order, as kubectl would.
 */
export function batches(manifests: Manifest[]): Manifest[][] {
  const out: Manifest[][] = [];
  let current: Manifest[] = [];
  let kind: unknown;
  let keys = new Set<string>();
  for (const m of manifests) {
    const meta = (m.object.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    const key = `${String(meta.namespace ?? '')}/${String(meta.name ?? '')}`;
    if (current.length > 0 && (m.object.kind !== kind || keys.has(key))) {
      out.push(current);
      current = [];
      keys = new Set();
    }
    kind = m.object.kind;
    keys.add(key);
    current.push(m);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Kinds other objects name (a ToolInstance's spec.toolRef), applied before the rest. */
const REFERENCED_KINDS: readonly unknown[] = ['ToolDefinition'];

/**
 * The documents with those other objects refer to first, otherwise in their
 * order: the API refuses a ToolInstance whose ToolDefinition does not exist, so
 * `apply -f dir/` works whatever the files are called.
 */
export function referencedFirst(manifests: Manifest[]): Manifest[] {
  const first = manifests.filter((m) => REFERENCED_KINDS.includes(m.object.kind));
  return [...first, ...manifests.filter((m) => !REFERENCED_KINDS.includes(m.object.kind))];
}

/** How many documents of one batch are in flight at once. */
const CONCURRENCY = 8;

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
        let startRv: Promise<number | undefined> | undefined;
        const applyOne = async (m: Manifest): Promise<() => void> => {
          try {
            const r = await resolveManifest(ctx, m, opts.namespace);
            startRv ??= storeResourceVersion(ctx.client, r);
            const result = await applyObject(ctx.client, r, await startRv);
            return () => process.stdout.write(`${objectRef(r.info, r.name)} ${result}\n`);
          } catch (err) {
            if (isFatal(err)) throw err;
            return () => {
              failed++;
              process.stderr.write(`error: ${describeSource(m)}: ${errorMessage(err)}\n`);
            };
          }
        };
        for (const batch of batches(referencedFirst(manifests))) {
          // Results print in document order, each as soon as those before it are done.
          const done: ((() => void) | undefined)[] = new Array(batch.length);
          let printed = 0;
          let next = 0;
          const flush = () => {
            while (printed < batch.length && done[printed]) done[printed++]!();
          };
          const worker = async () => {
            while (next < batch.length) {
              const i = next++;
              done[i] = await applyOne(batch[i]!);
              flush();
            }
          };
          await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
        }
        if (failed > 0) process.exitCode = 1;
      }),
    );
}
