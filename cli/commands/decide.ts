// berth approve|deny NAME [-n NAMESPACE] [--comment TEXT]: decide an
// AccessRequest through its approval subresource. The namespace is the
// requester's; without -n the request is looked up by name among those you may
// decide, and must be the only one of that name. A later decision replaces an
// earlier one: deny after approve revokes the access.
import type { Command } from 'commander';
import { type AccessDecision, type AccessRequest, ApiError, kindInfo } from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { objectRef } from '../printers.ts';
import { action } from '../run.ts';

/** The requester's namespace of the request called `name`, when only one request has that name. */
async function findNamespace(ctx: Context, name: string): Promise<string> {
  const info = kindInfo('AccessRequest');
  const list = await ctx.client.listAll(resourcePath(info, undefined), { chunkSize: 500 });
  const found = list.items.filter((r) => r.metadata.name === name);
  if (found.length === 1) return found[0]!.metadata.namespace!;
  if (found.length === 0)
    throw new CliError(
      `no access request named "${name}" that you may decide (berth get ar -A lists them)`,
    );
  const where = found.map((r) => r.metadata.namespace).join(', ');
  throw new CliError(
    `requests named "${name}" exist in namespaces ${where}: say whose with -n NAMESPACE`,
  );
}

function register(program: Command, verb: 'approve' | 'deny', decision: AccessDecision): void {
  program
    .command(verb)
    .description(
      verb === 'approve'
        ? 'approve an access request: its requester gets the dataset (in running tools too)'
        : 'deny an access request; denying an approved one revokes the access',
    )
    .argument('<name>', 'the AccessRequest name (berth get ar -A)')
    .option('-n, --namespace <ns>', "the requester's namespace (default: found by name)")
    .option('--comment <text>', 'a note for the requester')
    .action(
      action(async (name: string, opts: { namespace?: string; comment?: string }) => {
        const ctx = await Context.load();
        const info = kindInfo('AccessRequest');
        const namespace = opts.namespace ?? (await findNamespace(ctx, name));
        const body = { decision, ...(opts.comment !== undefined ? { comment: opts.comment } : {}) };
        try {
          await ctx.client.send<AccessRequest>(
            'POST',
            resourcePath(info, namespace, name, 'approval'),
            { body, contentType: 'application/json' },
          );
        } catch (err) {
          if (err instanceof ApiError && err.code === 404)
            throw new CliError(
              `accessrequest "${name}" not found in namespace "${namespace}" (berth get ar -A lists them)`,
            );
          throw err;
        }
        process.stdout.write(
          `${objectRef(info, name)} ${decision === 'Approved' ? 'approved' : 'denied'}\n`,
        );
      }),
    );
}

export function registerDecide(program: Command): void {
  register(program, 'approve', 'Approved');
  register(program, 'deny', 'Denied');
}
