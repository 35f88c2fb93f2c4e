// The SQL test tool as an ecs-local image and a client for it (server.ts is the
// program). Tests reach it through the gate with the launch's tool secret.
import { join } from 'node:path';
import type { ToolDefinitionSpecInput } from '../../../crds/index.ts';
import { deriveToolSecret, TOOL_SECRET_HEADER } from '../../../store/index.ts';

export const SQL_TOOL_IMAGE = 'berth/sql-tool:latest';

/** The ecs-local image map entry: Node runs server.ts (it finds `pg` in the repository). */
export function sqlToolImage(): Record<string, { command: string; args: string[] }> {
  return {
    [SQL_TOOL_IMAGE]: {
      command: process.execPath,
      args: ['--disable-warning=ExperimentalWarning', join(import.meta.dirname, 'server.ts')],
    },
  };
}

export function sqlToolSpec(extra: Partial<ToolDefinitionSpecInput> = {}): ToolDefinitionSpecInput {
  return {
    displayName: 'SQL test tool',
    image: SQL_TOOL_IMAGE,
    port: 8080,
    sizes: { small: { cpu: 256, memory: 512 } },
    defaultSize: 'small',
    readiness: { path: '/healthz', timeoutSeconds: 1, periodSeconds: 1 },
    spawnTimeout: '60s',
    ...extra,
  };
}

export type QueryAnswer =
  | { rows: Record<string, unknown>[]; error?: undefined }
  | { rows?: undefined; error: { code: string; message: string } };

/** A client of one running launch: its gate endpoint and the tool secret of its attempt. */
export class SqlTool {
  readonly #endpoint: string;
  readonly #secret: string;
  constructor(endpoint: string, key: Buffer, uid: string, attempt: number) {
    this.#endpoint = endpoint;
    this.#secret = deriveToolSecret(key, uid, attempt);
  }

  async query(sql: string, opts: { dsn?: string; hold?: boolean } = {}): Promise<QueryAnswer> {
    const r = await fetch(`${this.#endpoint}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TOOL_SECRET_HEADER]: this.#secret },
      body: JSON.stringify({ sql, ...opts }),
    });
    if (r.status !== 200) throw new Error(`sql tool answered ${r.status}`);
    return (await r.json()) as QueryAnswer;
  }

  async envNames(): Promise<string[]> {
    const r = await fetch(`${this.#endpoint}/env-names`, {
      headers: { [TOOL_SECRET_HEADER]: this.#secret },
    });
    return ((await r.json()) as { names: string[] }).names;
  }

  async env(): Promise<Record<string, string>> {
    const r = await fetch(`${this.#endpoint}/env`, {
      headers: { [TOOL_SECRET_HEADER]: this.#secret },
    });
    return (await r.json()) as Record<string, string>;
  }
}
