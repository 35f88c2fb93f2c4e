// berth token create --user NAME [--admin] [--description D]: a new API token,
// shown once (admins only; the server decides).
import type { Command } from 'commander';
import { API_PREFIX } from '../client.ts';
import { Context } from '../context.ts';
import { action } from '../run.ts';

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token for a user (prints it once)')
    .requiredOption('--user <name>', 'the user the token authenticates')
    .option('--admin', 'the user is an administrator')
    .option('--description <text>', 'what the token is for')
    .option('--expires-in <duration>', 'e.g. 12h or 30d (default: never expires)')
    .action(
      action(
        async (opts: {
          user: string;
          admin?: boolean;
          description?: string;
          expiresIn?: string;
        }) => {
          const ctx = await Context.load();
          const { body } = await ctx.client.send<{ id: string; token: string; user: string }>(
            'POST',
            `${API_PREFIX}/tokens`,
            {
              body: {
                user: opts.user,
                ...(opts.admin ? { admin: true } : {}),
                ...(opts.description ? { description: opts.description } : {}),
                ...(opts.expiresIn ? { expiresIn: opts.expiresIn } : {}),
              },
            },
          );
          process.stdout.write(`${body.token}\n`);
          process.stderr.write(
            `Created token ${body.id} for user "${body.user}"${opts.admin ? ' (admin)' : ''}. It will not be shown again.\n`,
          );
        },
      ),
    );
}
