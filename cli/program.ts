// Builds the commander program with every user verb. bin/berth.ts adds the
// daemon subcommands and parses argv. Each verb lives in cli/commands/<verb>.ts
// and reports its own errors (see run.ts), so parseAsync never throws for them.
import { Command } from 'commander';
import { registerApply } from './commands/apply.ts';
import { registerAudit } from './commands/audit.ts';
import { registerConfig } from './commands/config.ts';
import { registerDecide } from './commands/decide.ts';
import { registerDelete } from './commands/delete.ts';
import { registerDescribe } from './commands/describe.ts';
import { registerDiff } from './commands/diff.ts';
import { registerFiles } from './commands/files.ts';
import { registerGet } from './commands/get.ts';
import { registerKeepRunning } from './commands/keep-running.ts';
import { registerLaunch } from './commands/launch.ts';
import { registerRequest } from './commands/request.ts';
import { registerStop } from './commands/stop.ts';
import { registerToken } from './commands/token.ts';
import { registerUsage } from './commands/usage.ts';
import { registerUser } from './commands/user.ts';
import { registerWait } from './commands/wait.ts';
import { registerWhoami } from './commands/whoami.ts';

export function buildCli(): Command {
  const program = new Command('berth');
  program
    .description('berth: personal data tools on ECS Fargate, kubectl-style')
    .version('0.1.0', '--version', 'print the CLI version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      // Usage errors go to stderr as `error: ...`, like every other error.
      outputError: (str, write) => write(str),
    });
  registerGet(program);
  registerDescribe(program);
  registerApply(program);
  registerDiff(program);
  registerDelete(program);
  registerWait(program);
  registerLaunch(program);
  registerStop(program);
  registerKeepRunning(program);
  registerRequest(program);
  registerFiles(program);
  registerDecide(program);
  registerWhoami(program);
  registerToken(program);
  registerAudit(program);
  registerUsage(program);
  registerUser(program);
  registerConfig(program);
  return program;
}
