// berth usage [--since 7d] [--until T] [--by user|tool|day] [-o json|yaml]: what the
// tools cost over a window (admins only; the server decides), as a table of
// vCPU-hours, GiB-hours, running hours and tasks per user, tool or UTC day, with a
// TOTAL line. Figures are rounded to 2 decimals; -o json|yaml gives the API's answer.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { API_PREFIX } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { renderTable } from '../printers.ts';
import { action } from '../run.ts';

export interface UsageFigures {
  vcpuHours: number;
  gibHours: number;
  runningHours: number;
  tasks: number;
}

export interface UsageReport {
  since: string;
  until: string;
  by: string;
  rows: (UsageFigures & { key: string })[];
  total: UsageFigures;
}

interface UsageOptions {
  since: string;
  until?: string;
  by: string;
  output?: string;
  headers: boolean;
}

const GROUPINGS = ['user', 'tool', 'day'];

const two = (n: number) => n.toFixed(2);

function figures(f: UsageFigures): string[] {
  return [two(f.vcpuHours), two(f.gibHours), `${two(f.runningHours)}h`, String(f.tasks)];
}

export function usageTable(report: UsageReport) {
  return {
    header: [report.by.toUpperCase(), 'VCPU-HOURS', 'GIB-HOURS', 'RUNNING', 'TASKS'],
    rows: [...report.rows.map((r) => [r.key, ...figures(r)]), ['TOTAL', ...figures(report.total)]],
  };
}

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('show what the tools cost: vCPU-hours, GiB-hours, running time (admins only)')
    .option('--since <when>', 'a duration such as 7d or 12h, a time (RFC 3339) or a date', '7d')
    .option('--until <when>', 'the end of the window (default: now); same forms as --since')
    .option('--by <grouping>', 'user | tool | day (UTC days)', 'user')
    .option('-o, --output <format>', 'json | yaml')
    .option('--no-headers', 'omit the header row')
    .action(
      action(async (opts: UsageOptions) => {
        if (opts.output && opts.output !== 'json' && opts.output !== 'yaml')
          throw new CliError(`unsupported output format "${opts.output}" (json or yaml)`);
        if (!GROUPINGS.includes(opts.by))
          throw new CliError(`--by must be one of ${GROUPINGS.join(', ')}, not "${opts.by}"`);
        const ctx = await Context.load();
        const report = await ctx.client.get<UsageReport>(`${API_PREFIX}/usage`, {
          since: opts.since,
          until: opts.until,
          by: opts.by,
        });
        if (opts.output === 'json') {
          process.stdout.write(`${JSON.stringify(report, null, 4)}\n`);
          return;
        }
        if (opts.output === 'yaml') {
          process.stdout.write(stringify(report));
          return;
        }
        if (report.rows.length === 0) {
          process.stderr.write(`No usage from ${report.since} to ${report.until}.\n`);
          return;
        }
        process.stdout.write(renderTable(usageTable(report), { noHeaders: !opts.headers }));
      }),
    );
}
