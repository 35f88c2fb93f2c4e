// berth audit [--user U] [--action A] [--since 7d] [--limit N] [-o wide|json]:
// the audit log, newest first, as a kubectl-like table (admins only; the server
// decides). Pages are fetched until --limit entries are shown.
import type { Command } from 'commander';
import { API_PREFIX } from '../client.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { age, renderTable } from '../printers.ts';
import { action } from '../run.ts';

export interface AuditItem {
  id: string;
  at: string;
  actor: string;
  action: string;
  target?: { kind: string; namespace?: string; name: string };
  how: string;
  client?: string;
  outcome: string;
  detail: Record<string, unknown>;
}

interface AuditList {
  items: AuditItem[];
  metadata: { continue?: string };
}

interface AuditOptions {
  user?: string;
  action?: string;
  since?: string;
  limit: string;
  output?: string;
  headers: boolean;
}

/** `toolinstance/alice/jupyterlab`, `token/0123456789abcdef`, `-` without a target. */
export function targetRef(t: AuditItem['target']): string {
  if (!t) return '-';
  return [t.kind.toLowerCase(), ...(t.namespace ? [t.namespace] : []), t.name].join('/');
}

function detailText(d: Record<string, unknown>): string {
  const parts = Object.entries(d).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return parts.length ? parts.join(',') : '-';
}

export function auditTable(items: AuditItem[], wide: boolean, now = Date.now()) {
  const header = ['AGE', 'ACTOR', 'ACTION', 'TARGET', 'HOW', 'OUTCOME'];
  if (wide) header.push('TIME', 'CLIENT', 'DETAIL');
  const rows = items.map((e) => {
    const row = [age(e.at, now), e.actor, e.action, targetRef(e.target), e.how, e.outcome];
    if (wide) row.push(e.at, e.client ?? '-', detailText(e.detail));
    return row;
  });
  return { header, rows };
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('show the audit log, newest first (admins only)')
    .option('--user <name>', 'entries by this user or about something of theirs')
    .option('--action <action>', 'an action or a prefix of one, e.g. signin or instance.')
    .option('--since <when>', 'a duration such as 7d or 12h, or a time (RFC 3339)')
    .option('--limit <n>', 'show at most this many entries', '100')
    .option('-o, --output <format>', 'wide | json')
    .option('--no-headers', 'omit the header row')
    .action(
      action(async (opts: AuditOptions) => {
        if (opts.output && opts.output !== 'wide' && opts.output !== 'json')
          throw new CliError(`unsupported output format "${opts.output}" (wide or json)`);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new CliError(`--limit must be a positive integer, not "${opts.limit}"`);
        const ctx = await Context.load();
        const items: AuditItem[] = [];
        let next: string | undefined;
        do {
          const page: AuditList = await ctx.client.get<AuditList>(`${API_PREFIX}/audit`, {
            user: opts.user,
            action: opts.action,
            since: opts.since,
            limit: Math.min(limit - items.length, 1000),
            continue: next,
          });
          items.push(...page.items);
          next = page.metadata.continue;
        } while (next && items.length < limit);
        if (opts.output === 'json') {
          const list = { apiVersion: 'v1', kind: 'AuditEntryList', items };
          process.stdout.write(`${JSON.stringify(list, null, 4)}\n`);
          return;
        }
        if (items.length === 0) {
          process.stderr.write('No audit entries found.\n');
          return;
        }
        const table = auditTable(items, opts.output === 'wide');
        process.stdout.write(renderTable(table, { noHeaders: !opts.headers }));
      }),
    );
}
