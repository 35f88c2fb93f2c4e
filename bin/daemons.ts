// Daemon subcommands. Each lives in its own bin/<name>.ts, loaded only when used so
// that `berth get` does not pay for starting PostgreSQL or the AWS SDK.
import type { Command } from 'commander';

export function registerDaemons(program: Command): void {
  program
    .command('up')
    .description(
      'run berth locally: embedded PostgreSQL and the API (controllers and proxy join as they land)',
    )
    .action(async () => {
      const { runUp } = await import('./up.ts');
      await runUp();
    });
  program
    .command('api')
    .description('run the API server (needs DATABASE_URL)')
    .action(async () => {
      const { runApi } = await import('./api.ts');
      await runApi();
    });
  program
    .command('controller')
    .description(
      'run a controller replica: reconcilers, task poller, garbage collector (needs DATABASE_URL)',
    )
    .action(async () => {
      const { runController } = await import('./controller.ts');
      await runController();
    });
  program
    .command('proxy')
    .description(
      'run the proxy that routes each user to their own running tool (needs DATABASE_URL)',
    )
    .action(async () => {
      const { runProxy } = await import('./proxy.ts');
      await runProxy();
    });
  program
    .command('ecs-local')
    .description('run ecs-local, an ECS-API-compatible endpoint that runs tasks as local processes')
    .action(async () => {
      const { runEcsLocal } = await import('./ecs-local.ts');
      await runEcsLocal();
    });
  program
    .command('doctor')
    .description(
      'check the setup: beside make run, the API, database, CLI token, ecs-local and proxy; with AWS settings (or BERTH_ECS_ENDPOINT), the ECS cluster, subnets and security groups',
    )
    .action(async () => {
      const { runDoctor } = await import('./doctor.ts');
      await runDoctor();
    });
}
