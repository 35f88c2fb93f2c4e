// Turning what a person typed (`td`, `toolinstances`, `ti/jupyterlab`) into a
// kind, with a "did you mean" when it is a typo or a shortening.
import { KINDS, type KindInfo, resolveKind, suggestKind } from '../crds/index.ts';
import { CliError } from './errors.ts';

export function kindOrThrow(input: string): KindInfo {
  const info = resolveKind(input);
  if (info) return info;
  const nearest = suggestKind(input) ?? shortenedKind(input);
  throw new CliError(
    `the server doesn't have a resource type "${input}"${nearest ? `; did you mean "${nearest}"?` : ''}`,
  );
}

/**
 * The kind a shortening names (`tooldefs`, `toolinst`): the start of exactly one
 * kind's name, a plural `s` aside. Too far from any name for the typo rule.
 */
function shortenedKind(input: string): string | undefined {
  const stem = input.trim().toLowerCase().replace(/s$/, '');
  if (stem.length < 4) return undefined;
  const found = KINDS.filter((k) => k.singular.startsWith(stem) || k.plural.startsWith(stem));
  return found.length === 1 ? found[0]!.plural : undefined;
}

export interface Target {
  info: KindInfo;
  name: string;
}

/**
 * `KIND NAME [NAME...]` or `KIND/NAME [KIND/NAME...]`, as kubectl accepts them.
 * Returns the kind (when every argument is KIND/NAME, the first one's) and names.
 */
export function parseTargets(args: string[]): { info: KindInfo | undefined; targets: Target[] } {
  if (args.length === 0) return { info: undefined, targets: [] };
  if (args[0]!.includes('/')) {
    const targets = args.map((a) => {
      const slash = a.indexOf('/');
      if (slash < 0)
        throw new CliError(
          `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (got "${a}")`,
        );
      const name = a.slice(slash + 1);
      if (!name) throw new CliError(`missing the name in "${a}"; expected KIND/NAME`);
      return { info: kindOrThrow(a.slice(0, slash)), name };
    });
    return { info: targets[0]!.info, targets };
  }
  const info = kindOrThrow(args[0]!);
  return { info, targets: args.slice(1).map((name) => ({ info, name })) };
}
