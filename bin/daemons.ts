// Daemon subcommands. Each lives in its own bin/<name>.ts, loaded only when used so
// that `berth get` does not pay for starting PostgreSQL or the AWS SDK.
import type { Command } from 'commander';

export function registerDaemons(program: Command): void {
  program
    .command('up')
    .description('run berth locally: embedded PostgreSQL, the API (and, as they land, controllers, proxy, ecs-local)')
    .action(async () => {
      const { runUp } = await import('./up.ts');
      await runUp();
    });
  program
    .command('api')
    .description('run the API server (DATABASE_URL, BERTH_API_*)')
    .action(async () => {
      const { runApi } = await import('./api.ts');
      await runApi();
    });
}
