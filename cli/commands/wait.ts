// berth wait KIND/NAME --for=condition=Ready[=True] | --for=delete |
// --for=jsonpath='{.status.phase}'=Ready [--timeout=30s]: block, by watch, until
// the object gets there.
import type { Command } from 'commander';
import type { BerthObject, Condition } from '../../crds/index.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { evaluate, formatValue, parsePath, splitJsonPathCondition } from '../jsonpath.ts';
import { parseTargets } from '../kinds.ts';
import { objectRef } from '../printers.ts';
import { action, parseTimeout } from '../run.ts';
import { type Check, waitFor } from '../waiter.ts';

/** Turns a --for argument into a check on the object (undefined once deleted). */
export function parseFor(spec: string): { check: Check; needsObject: boolean } {
  if (spec === 'delete') return { check: (obj) => obj === undefined, needsObject: false };
  if (spec.startsWith('condition=')) {
    const rest = spec.slice('condition='.length);
    const eq = rest.indexOf('=');
    const type = eq < 0 ? rest : rest.slice(0, eq);
    const want = eq < 0 ? 'True' : rest.slice(eq + 1);
    if (!type)
      throw new CliError(`--for=condition= needs a condition type, e.g. --for=condition=Ready`);
    return {
      needsObject: true,
      check: (obj) => {
        const conditions = ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ??
          []) as Condition[];
        const c = conditions.find((x) => x.type.toLowerCase() === type.toLowerCase());
        return c !== undefined && c.status.toLowerCase() === want.toLowerCase();
      },
    };
  }
  if (spec.startsWith('jsonpath=')) {
    const { path, value } = splitJsonPathCondition(spec.slice('jsonpath='.length));
    const segments = parsePath(path);
    return {
      needsObject: true,
      check: (obj) => {
        if (!obj) return false;
        const found = evaluate(segments, obj);
        if (value === undefined) return found.length > 0;
        return found.length > 0 && found.map(formatValue).join(' ') === value;
      },
    };
  }
  throw new CliError(
    `unrecognized --for "${spec}": use condition=TYPE[=STATUS], delete, or jsonpath='{PATH}'=VALUE`,
  );
}

export function registerWait(program: Command): void {
  program
    .command('wait')
    .description(
      'wait until objects meet a condition, are deleted, or a field has a value (by watch)',
    )
    .argument('<targets...>', 'KIND/NAME (or KIND NAME...)')
    .requiredOption(
      '--for <condition>',
      'condition=Ready[=True] | delete | jsonpath={.status.phase}=Ready',
    )
    .option('-n, --namespace <ns>', 'namespace (default: your own)')
    .option('--timeout <duration>', 'give up after this long', '30s')
    .action(
      action(async (args: string[], opts: { for: string; namespace?: string; timeout: string }) => {
        const timeoutMs = parseTimeout(opts.timeout);
        const { check, needsObject } = parseFor(opts.for);
        const { targets } = parseTargets(args);
        if (targets.length === 0) throw new CliError('wait needs KIND/NAME');
        const ctx = await Context.load();
        for (const t of targets) {
          const ns = await ctx.namespaceFor(t.info, opts);
          let gone = false;
          await waitFor(
            ctx.client,
            t.info,
            ns,
            t.name,
            (obj: BerthObject | undefined) => {
              // Waiting for a condition on an object that is not there cannot succeed.
              if (needsObject && obj === undefined) {
                gone = true;
                return true;
              }
              return check(obj);
            },
            timeoutMs,
          );
          if (gone)
            throw new CliError(
              `${t.info.plural} "${t.name}" not found${ns ? ` in namespace ${ns}` : ''}`,
            );
          process.stdout.write(`${objectRef(t.info, t.name)} condition met\n`);
        }
      }),
    );
}
