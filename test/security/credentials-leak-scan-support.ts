// What credentials-leak-scan.test.ts needs beside `berth up`: the CLI as a user
// (their own token), a tool's environment as an operator with ecs:DescribeTasks
// reads it, a login check against the datasets database, and the scan itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import pg from 'pg';
import type { BerthUp } from '../support/berth-up.ts';

const root = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `bin/berth <args>` with `token` (BERTH_SERVER/BERTH_TOKEN), no config file of anyone's. */
export function cliAs(berth: BerthUp, token: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', join(root, 'bin', 'berth.ts'), ...args],
      {
        cwd: root,
        env: {
          ...process.env,
          BERTH_SERVER: berth.apiUrl,
          BERTH_TOKEN: token,
          BERTH_CONFIG: join(berth.dataDir, 'no-such-cli-config.yaml'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The tool container's environment overrides of a task, through ecs-local's DescribeTasks. */
export async function taskEnvironment(
  berth: BerthUp,
  taskArn: string,
): Promise<Record<string, string>> {
  const ecs = new ECSClient({
    endpoint: berth.ecsLocalUrl,
    region: 'eu-west-2',
    credentials: berth.ecsLocalKey(),
  });
  try {
    // arn:aws:ecs:<region>:<account>:task/<cluster>/<id>
    const cluster = taskArn.split(':').at(-1)!.split('/')[1];
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    const tool = out.tasks?.[0]?.overrides?.containerOverrides?.find((c) => c.name === 'tool');
    assert.ok(tool, `DescribeTasks shows the tool container's overrides of ${taskArn}`);
    return Object.fromEntries((tool.environment ?? []).map((e) => [e.name!, e.value ?? '']));
  } finally {
    ecs.destroy();
  }
}

/** Runs `sql` as the login a tool's environment names (PG*), as the tool would. */
export async function asToolLogin<T extends pg.QueryResultRow>(
  env: Record<string, string>,
  sql: string,
): Promise<pg.QueryResult<T>> {
  const c = new pg.Client({
    host: env.PGHOST,
    port: Number(env.PGPORT),
    database: env.PGDATABASE,
    user: env.PGUSER,
    password: env.PGPASSWORD,
  });
  await c.connect();
  try {
    return await c.query<T>(sql);
  } finally {
    await c.end().catch(() => {});
  }
}

/** Every row of every table of berth's store database (its own schemas and pg-boss's), as text. */
export async function storeTables(superuserUrl: string): Promise<[string, string][]> {
  const c = new pg.Client({ connectionString: superuserUrl });
  await c.connect();
  try {
    const { rows: tables } = await c.query<{ name: string; sql: string }>(
      `select format('%I.%I', n.nspname, c.relname) as name,
              format('select coalesce(string_agg(t::text, E''\\n''), '''') as text from %I.%I t',
                     n.nspname, c.relname) as sql
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p')
          and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')`,
    );
    const out: [string, string][] = [];
    for (const t of tables) {
      const { rows } = await c.query<{ text: string }>(t.sql);
      out.push([`store table ${t.name}`, rows[0]!.text]);
    }
    const { rows } = await c.query<{ text: string }>(
      "select coalesce(string_agg(query, E'\\n'), '') as text from pg_stat_activity",
    );
    out.push(['pg_stat_activity', rows[0]!.text]);
    return out;
  } finally {
    await c.end();
  }
}

export interface Secret {
  what: string;
  value: string;
}

/**
 * Every place that holds a secret, named, with the text around it (the secret
 * itself masked), so a failure says where without printing it.
 */
export function leaks(secrets: Secret[], places: [string, string][]): string[] {
  const found: string[] = [];
  for (const s of secrets) {
    for (const [where, text] of places) {
      const at = text.indexOf(s.value);
      if (at < 0) continue;
      const around = text
        .slice(Math.max(0, at - 80), at + s.value.length + 80)
        .replaceAll(s.value, `<${s.what}>`);
      found.push(`${s.what} in ${where}: …${around}…`);
    }
  }
  return found;
}
