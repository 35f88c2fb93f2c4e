// berth config view [-o json] [--raw] | berth config set KEY VALUE: the CLI's
// own settings (server, token). The token is masked unless --raw.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig, maskToken, updateConfig } from '../config.ts';
import { CliError } from '../errors.ts';
import { action } from '../run.ts';

const KEYS = ['server', 'token'] as const;

export function registerConfig(program: Command): void {
  const config = program.command('config').description('view or change the CLI configuration');
  config
    .command('view')
    .description('show the effective configuration (BERTH_SERVER/BERTH_TOKEN override the file)')
    .option('-o, --output <format>', 'yaml (default) or json')
    .option('--raw', 'show the token instead of REDACTED')
    .action(
      action(async (opts: { output?: string; raw?: boolean }) => {
        if (opts.output && opts.output !== 'json' && opts.output !== 'yaml') {
          throw new CliError(`unsupported output format "${opts.output}" (yaml or json)`);
        }
        const c = await loadConfig();
        const view: Record<string, string> = { server: c.server };
        if (c.token) view.token = opts.raw ? c.token : maskToken(c.token)!;
        if (opts.output === 'json') process.stdout.write(JSON.stringify(view, null, 2) + '\n');
        else process.stdout.write(stringify(view));
        process.stderr.write(
          `# file: ${c.path}; server from ${c.source.server}, token from ${c.source.token}\n`,
        );
      }),
    );
  config
    .command('set')
    .description(`set a value in the config file (keys: ${KEYS.join(', ')})`)
    .argument('<key>', KEYS.join(' | '))
    .argument('<value>', 'the new value')
    .action(
      action(async (key: string, value: string) => {
        if (!(KEYS as readonly string[]).includes(key)) {
          throw new CliError(`unknown config key "${key}"; expected one of: ${KEYS.join(', ')}`);
        }
        if (key === 'server') {
          let u: URL;
          try {
            u = new URL(value);
          } catch {
            throw new CliError(
              `server must be a URL such as http://127.0.0.1:8080, got "${value}"`,
            );
          }
          if (u.protocol !== 'http:' && u.protocol !== 'https:')
            throw new CliError('server must be an http:// or https:// URL');
        }
        const path = await updateConfig({ [key]: value });
        process.stdout.write(`Property "${key}" set in ${path}.\n`);
      }),
    );
}
