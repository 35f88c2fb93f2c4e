// berth launch TOOL [--size S]: ask for your ToolInstance of TOOL to run. It sets
// spec.state (and size) and spec.launchRequestedAt; the controllers do the rest.
import type { Command } from 'commander';
import { API_VERSION, ApiError, type BerthObject, kindInfo } from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { objectRef } from '../printers.ts';
import { action } from '../run.ts';
import { FIELD_MANAGER } from './apply.ts';

/** Sets spec.state (and size) on NS/TOOL, creating the instance when there is none. */
export async function setInstanceState(
  ctx: Context,
  tool: string,
  namespace: string | undefined,
  state: 'Running' | 'Stopped',
  size: string | undefined,
  createIfMissing: boolean,
): Promise<{ namespace: string; created: boolean }> {
  const info = kindInfo('ToolInstance');
  const ns = namespace ?? (await ctx.defaultNamespace());
  const path = resourcePath(info, ns, tool);
  // A launch also says when it was asked for: an instance whose last attempt ended
  // (Stopped or Failed) gets a new one from this same write (a new generation).
  const spec: Record<string, unknown> = {
    state,
    ...(state === 'Running' ? { launchRequestedAt: new Date().toISOString() } : {}),
    ...(size ? { size } : {}),
  };
  try {
    await ctx.client.send<BerthObject>('PATCH', path, {
      body: { spec },
      contentType: 'application/merge-patch+json',
    });
    return { namespace: ns, created: false };
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404) || !createIfMissing) throw err;
  }
  const manifest = {
    apiVersion: API_VERSION,
    kind: 'ToolInstance',
    metadata: { name: tool, namespace: ns },
    spec: { toolRef: tool, ...spec },
  };
  await ctx.client.send('PATCH', path, {
    query: { fieldManager: FIELD_MANAGER },
    body: manifest,
    contentType: 'application/apply-patch+yaml',
  });
  return { namespace: ns, created: true };
}

export function registerLaunch(program: Command): void {
  program
    .command('launch')
    .description('launch a tool: set your ToolInstance of it to Running (created if needed)')
    .argument('<tool>', 'the ToolDefinition name, e.g. jupyterlab')
    .option('--size <size>', "one of the tool's sizes, e.g. large (default: its defaultSize)")
    .option('-n, --namespace <ns>', 'namespace (default: your own; admins may name another)')
    .action(
      action(async (tool: string, opts: { size?: string; namespace?: string }) => {
        const ctx = await Context.load();
        const { namespace } = await setInstanceState(
          ctx,
          tool,
          opts.namespace,
          'Running',
          opts.size,
          true,
        );
        process.stdout.write(
          `${objectRef(kindInfo('ToolInstance'), tool)} launched (namespace ${namespace})\n`,
        );
        process.stderr.write(
          `Follow it with: berth get ti ${tool} -w${opts.namespace ? ` -n ${namespace}` : ''}\n`,
        );
      }),
    );
}
