// berth request access DATASET --reason TEXT: ask for a Dataset. It creates an
// AccessRequest named after the Dataset in your namespace; its approvers (or an
// admin) decide it with `berth approve|deny`. A denied request stays as the
// record of that decision, so asking again makes DATASET-2 (then -3, …).
import type { Command } from 'commander';
import {
  type AccessRequest,
  API_VERSION,
  ApiError,
  type Dataset,
  kindInfo,
} from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { approversText } from '../describe-dataset.ts';
import { CliError } from '../errors.ts';
import { objectRef } from '../printers.ts';
import { action } from '../run.ts';

/** Asking again after this many denials is not a typo to be helped along. */
const MAX_ATTEMPTS = 100;

async function getDataset(ctx: Context, name: string): Promise<Dataset> {
  try {
    return await ctx.client.get<Dataset>(resourcePath(kindInfo('Dataset'), undefined, name));
  } catch (err) {
    if (err instanceof ApiError && err.code === 404)
      throw new CliError(`dataset "${name}" does not exist (berth get datasets lists them)`);
    throw err;
  }
}

/**
 * Creates the request under the first free name: DATASET, else DATASET-2, … past
 * denied ones. A pending or approved one under that name means there is nothing to ask.
 */
async function createRequest(
  ctx: Context,
  namespace: string,
  dataset: string,
  reason: string,
): Promise<{ name: string; denied: AccessRequest[] }> {
  const info = kindInfo('AccessRequest');
  const denied: AccessRequest[] = [];
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const name = n === 1 ? dataset : `${dataset}-${n}`;
    let refused: ApiError;
    try {
      await ctx.client.send('POST', resourcePath(info, namespace), {
        body: {
          apiVersion: API_VERSION,
          kind: 'AccessRequest',
          metadata: { name, namespace },
          spec: { dataset, reason },
        },
        contentType: 'application/json',
      });
      return { name, denied };
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      refused = err;
    }
    // The API also refuses a second pending request for one dataset: its words then.
    const existing = await ctx.client
      .get<AccessRequest>(resourcePath(info, namespace, name))
      .catch((err: unknown) => {
        throw err instanceof ApiError && err.code === 404 ? refused : err;
      });
    const phase = existing.status?.phase ?? 'Pending';
    if (existing.spec.dataset === dataset && phase === 'Pending')
      throw new CliError(
        `you already asked: ${objectRef(info, name)} is pending approval (berth describe dataset ${dataset})`,
      );
    if (existing.spec.dataset === dataset && phase === 'Approved')
      throw new CliError(`${objectRef(info, name)} was approved: you have access to ${dataset}`);
    if (phase === 'Denied') denied.push(existing);
  }
  throw new CliError(
    `${dataset} has been asked for ${MAX_ATTEMPTS} times; delete old requests (berth get ar) first`,
  );
}

export function registerRequest(program: Command): void {
  const request = program
    .command('request')
    .description('ask for something that needs approval (access to a dataset)');
  request
    .command('access')
    .description('ask for access to a dataset; its approvers (or an admin) decide')
    .argument('<dataset>', 'the Dataset name (berth get datasets)')
    .requiredOption('--reason <text>', 'why you need it (the approvers read this)')
    .addHelpText(
      'after',
      '\nThe request is AccessRequest DATASET in your namespace. If an earlier request\n' +
        'of that name was denied, it stays as the record of that decision and the new one\n' +
        'is named DATASET-2 (then -3, ...). Withdraw one with: berth delete ar NAME',
    )
    .action(
      action(async (dataset: string, opts: { reason: string }) => {
        if (!opts.reason.trim()) throw new CliError('--reason must say why you need the dataset');
        const ctx = await Context.load();
        const namespace = await ctx.defaultNamespace();
        const ds = await getDataset(ctx, dataset);
        const { name, denied } = await createRequest(ctx, namespace, dataset, opts.reason);
        const info = kindInfo('AccessRequest');
        for (const d of denied) {
          const by = d.status?.decidedBy ? ` by ${d.status.decidedBy}` : '';
          process.stderr.write(
            `${objectRef(info, d.metadata.name)} was denied${by}; asking again as ${objectRef(info, name)}\n`,
          );
        }
        process.stdout.write(
          `${objectRef(info, name)} created (pending approval by ${approversText(ds)})\n`,
        );
      }),
    );
}
