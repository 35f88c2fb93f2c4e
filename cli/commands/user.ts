// berth user list | disable NAME | enable NAME (admins). Disabling ends the
// user's sessions, tokens and open connections and stops their tools; enabling
// lets them sign in again (their old tokens stay revoked).
import type { Command } from 'commander';
import { API_PREFIX } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { age, renderTable } from '../printers.ts';
import { action } from '../run.ts';

interface UserInfo {
  name: string;
  email?: string;
  groups: string[];
  admin: boolean;
  disabled: boolean;
  createdAt: string;
}

async function setDisabled(name: string, disabled: boolean): Promise<void> {
  const ctx = await Context.load();
  await ctx.client.send('PATCH', `${API_PREFIX}/users/${encodeURIComponent(name)}`, {
    body: { disabled },
    contentType: 'application/merge-patch+json',
  });
  process.stdout.write(`user/${name} ${disabled ? 'disabled' : 'enabled'}\n`);
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('manage users (admins)');
  user
    .command('list')
    .description('list users: name, email, groups, admin, disabled, created')
    .option('-o, --output <format>', 'json')
    .action(
      action(async (opts: { output?: string }) => {
        if (opts.output && opts.output !== 'json')
          throw new CliError(`unsupported output format "${opts.output}" (only json)`);
        const ctx = await Context.load();
        const { body } = await ctx.client.send<{ items: UserInfo[] }>('GET', `${API_PREFIX}/users`);
        if (opts.output === 'json') {
          process.stdout.write(`${JSON.stringify(body.items, null, 2)}\n`);
          return;
        }
        const now = Date.now();
        const rows = body.items.map((u) => [
          u.name,
          u.email ?? '<none>',
          u.groups.length > 0 ? u.groups.join(',') : '<none>',
          u.admin ? 'true' : 'false',
          u.disabled ? 'true' : 'false',
          age(u.createdAt, now),
        ]);
        process.stdout.write(
          renderTable({ header: ['NAME', 'EMAIL', 'GROUPS', 'ADMIN', 'DISABLED', 'AGE'], rows }),
        );
      }),
    );
  user
    .command('disable')
    .description('disable a user: their sessions, tokens and connections end, their tools stop')
    .argument('<name>', 'the user (their namespace)')
    .action(action(async (name: string) => setDisabled(name, true)));
  user
    .command('enable')
    .description('let a disabled user sign in again (old tokens stay revoked)')
    .argument('<name>', 'the user (their namespace)')
    .action(action(async (name: string) => setDisabled(name, false)));
}
