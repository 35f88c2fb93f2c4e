// berth keep-running TOOL|INSTANCE [-n NS]: tell berth the tool is in use, as a
// request through the proxy would: its idle time starts again and a scheduled
// idle stop is called off. A maxLifetime stop cannot be postponed; it says so.
import type { Command } from 'commander';
import {
  ApiError,
  kindInfo,
  parseDuration,
  type ToolDefinition,
  type ToolInstance,
} from '../../crds/index.ts';
import { resourcePath } from '../client.ts';
import { Context } from '../context.ts';
import { age, objectRef } from '../printers.ts';
import { action } from '../run.ts';

/** POSTs keep-running to NAME, else to the namespace's one instance of tool NAME. */
async function keep(ctx: Context, ns: string, name: string): Promise<ToolInstance> {
  const info = kindInfo('ToolInstance');
  const post = async (instance: string) =>
    (await ctx.client.send<ToolInstance>('POST', resourcePath(info, ns, instance, 'keep-running')))
      .body;
  try {
    return await post(name);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
    // Not an instance's name: perhaps a tool's. Someone else's namespace stays a 404.
    let items: ToolInstance[];
    try {
      items = (await ctx.client.get<{ items: ToolInstance[] }>(resourcePath(info, ns))).items;
    } catch {
      throw err;
    }
    const ofTool = items.filter((ti) => ti.spec.toolRef === name);
    if (ofTool.length === 1) return await post(ofTool[0]!.metadata.name);
    if (ofTool.length > 1)
      throw new ApiError(
        'BadRequest',
        `several instances of ${name} in namespace ${ns} (${ofTool.map((t) => t.metadata.name).join(', ')}): name one`,
      );
    throw err;
  }
}

/** HH:MM, local time, with how far ahead. */
function when(iso: string): string {
  const t = new Date(iso);
  const hhmm = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
  return `${hhmm} (${age(iso)})`;
}

export function registerKeepRunning(program: Command): void {
  program
    .command('keep-running')
    .description('say a tool is in use: its idle time starts again and an idle stop is called off')
    .argument('<tool>', 'the ToolDefinition name (or the instance name), e.g. jupyterlab')
    .option('-n, --namespace <ns>', 'namespace (default: your own; admins may name another)')
    .action(
      action(async (tool: string, opts: { namespace?: string }) => {
        const ctx = await Context.load();
        const ns = opts.namespace ?? (await ctx.defaultNamespace());
        const ti = await keep(ctx, ns, tool);
        const name = ti.metadata.name;
        const ref = objectRef(kindInfo('ToolInstance'), name);
        const warning = ti.status?.stopWarning;
        if (warning?.reason === 'MaxLifetime') {
          process.stdout.write(
            `${ref} still stops at ${when(warning.stopAt)}: it reaches its maxLifetime, which cannot be postponed (namespace ${ns})\n`,
          );
          return;
        }
        let idleAfter: number | undefined;
        try {
          const def = await ctx.client.get<ToolDefinition>(
            resourcePath(kindInfo('ToolDefinition'), undefined, ti.spec.toolRef),
          );
          idleAfter = parseDuration(def.spec.idle.idleAfter);
        } catch {
          idleAfter = undefined; // the tool's definition is gone or hidden: say less
        }
        const next = idleAfter
          ? `; unused from now on, it stops no earlier than ${when(new Date(Date.now() + idleAfter).toISOString())}`
          : '';
        process.stdout.write(`${ref} kept running${next} (namespace ${ns})\n`);
      }),
    );
}
