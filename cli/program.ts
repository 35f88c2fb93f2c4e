// Builds the commander program with every user verb. bin/berth.ts adds the
// daemon subcommands and parses argv.
import { Command } from 'commander';

export function buildCli(): Command {
  const program = new Command('berth');
  program.description('berth: personal data tools on ECS Fargate, kubectl-style');
  return program;
}
