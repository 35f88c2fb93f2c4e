// berth whoami: who the server thinks you are.
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { action } from '../run.ts';

export function registerWhoami(program: Command): void {
  program
    .command('whoami')
    .description('show the user, namespace and admin flag of the configured token')
    .option('-o, --output <format>', 'json')
    .action(
      action(async (opts: { output?: string }) => {
        if (opts.output && opts.output !== 'json')
          throw new CliError(`unsupported output format "${opts.output}" (only json)`);
        const ctx = await Context.load();
        const me = await ctx.whoami();
        if (opts.output === 'json') {
          process.stdout.write(JSON.stringify(me, null, 2) + '\n');
          return;
        }
        const lines = [
          `User:       ${me.user}`,
          `Namespace:  ${me.namespace ?? '<none>'}`,
          `Admin:      ${me.admin ? 'yes' : 'no'}`,
        ];
        if (me.groups && me.groups.length > 0) lines.push(`Groups:     ${me.groups.join(', ')}`);
        lines.push(`Server:     ${ctx.config.server}`);
        process.stdout.write(lines.join('\n') + '\n');
      }),
    );
}
