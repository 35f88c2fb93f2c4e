// berth token create --user NAME [--admin] [--description D] [--ttl 30d]: a new
// API token, shown once (admins only; the server decides). berth token list
// [--user NAME | --all-users]: tokens without their secrets. berth token revoke
// ID: your own, or (admins) anyone's.
import type { Command } from 'commander';
import { API_PREFIX } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { age, humanDuration, renderTable } from '../printers.ts';
import { action } from '../run.ts';

interface TokenInfo {
  id: string;
  user: string;
  description?: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

/** `in 89d` for a time ahead, `3d ago` for one behind, like kubectl's ages. */
function relative(ts: string | undefined, now: number): string {
  if (!ts) return '<never>';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return '<unknown>';
  return t >= now ? `in ${humanDuration(t - now)}` : `${humanDuration(now - t)} ago`;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token for a user (prints it once)')
    .requiredOption('--user <name>', 'the user the token authenticates')
    .option('--admin', 'the user is an administrator')
    .option('--description <text>', 'what the token is for')
    .option('--ttl <duration>', "lifetime, e.g. 12h or 30d (default: the server's, 90d)")
    .option('--expires-in <duration>', 'the older name of --ttl')
    .action(
      action(
        async (opts: {
          user: string;
          admin?: boolean;
          description?: string;
          ttl?: string;
          expiresIn?: string;
        }) => {
          if (opts.ttl && opts.expiresIn)
            throw new CliError('give --ttl or --expires-in, not both');
          const ttl = opts.ttl ?? opts.expiresIn;
          const ctx = await Context.load();
          const { body } = await ctx.client.send<{
            id: string;
            token: string;
            user: string;
            expiresAt?: string;
          }>('POST', `${API_PREFIX}/tokens`, {
            body: {
              user: opts.user,
              ...(opts.admin ? { admin: true } : {}),
              ...(opts.description ? { description: opts.description } : {}),
              ...(ttl ? { ttl } : {}),
            },
          });
          process.stdout.write(`${body.token}\n`);
          const expires = body.expiresAt ? `, expires ${body.expiresAt}` : '';
          process.stderr.write(
            `Created token ${body.id} for user "${body.user}"${opts.admin ? ' (admin)' : ''}${expires}. It will not be shown again.\n`,
          );
        },
      ),
    );

  token
    .command('list')
    .description('list API tokens (yours; admins: --user or --all-users), never their secrets')
    .option('--user <name>', "another user's tokens (admins)")
    .option('-A, --all-users', "every user's tokens (admins)")
    .option('-o, --output <format>', 'json')
    .action(
      action(async (opts: { user?: string; allUsers?: boolean; output?: string }) => {
        if (opts.output && opts.output !== 'json')
          throw new CliError(`unsupported output format "${opts.output}" (only json)`);
        if (opts.user && opts.allUsers) throw new CliError('give --user or --all-users, not both');
        const ctx = await Context.load();
        const { body } = await ctx.client.send<{ items: TokenInfo[] }>(
          'GET',
          `${API_PREFIX}/tokens`,
          {
            query: {
              ...(opts.user ? { user: opts.user } : {}),
              ...(opts.allUsers ? { allUsers: true } : {}),
            },
          },
        );
        if (opts.output === 'json') {
          process.stdout.write(`${JSON.stringify(body.items, null, 2)}\n`);
          return;
        }
        if (body.items.length === 0) {
          process.stderr.write('No tokens found.\n');
          return;
        }
        const now = Date.now();
        const rows = body.items.map((t) => [
          t.id,
          t.user,
          t.description ?? '',
          `${age(t.createdAt, now)} ago`,
          relative(t.expiresAt, now),
          t.lastUsedAt ? relative(t.lastUsedAt, now) : '<never>',
        ]);
        process.stdout.write(
          renderTable({
            header: ['ID', 'USER', 'DESCRIPTION', 'CREATED', 'EXPIRES', 'LAST USED'],
            rows,
          }),
        );
      }),
    );

  token
    .command('revoke')
    .description("revoke an API token by id (yours; admins: anyone's); its open watches end")
    .argument('<id>', 'the token id (berth token list), not the token')
    .action(
      action(async (id: string) => {
        const ctx = await Context.load();
        await ctx.client.send('DELETE', `${API_PREFIX}/tokens/${encodeURIComponent(id)}`);
        process.stdout.write(`token ${id} revoked\n`);
      }),
    );
}
