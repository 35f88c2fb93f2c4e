// berth stop TOOL: set your ToolInstance of TOOL to Stopped.
import type { Command } from 'commander';
import { kindInfo } from '../../crds/index.ts';
import { Context } from '../context.ts';
import { objectRef } from '../printers.ts';
import { action } from '../run.ts';
import { setInstanceState } from './launch.ts';

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description('stop a tool: set your ToolInstance of it to Stopped')
    .argument('<tool>', 'the ToolDefinition name, e.g. jupyterlab')
    .option('-n, --namespace <ns>', 'namespace (default: your own; admins may name another)')
    .action(
      action(async (tool: string, opts: { namespace?: string }) => {
        const ctx = await Context.load();
        const { namespace } = await setInstanceState(
          ctx,
          tool,
          opts.namespace,
          'Stopped',
          undefined,
          false,
        );
        process.stdout.write(
          `${objectRef(kindInfo('ToolInstance'), tool)} stopped (namespace ${namespace})\n`,
        );
      }),
    );
}
