// Shared by the API tests: a fresh database, the API on a free port, tokens for
// an admin and two users, and small fetch helpers.

import type { ApiConfig } from '../../api/index.ts';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

/** What tests read from JSON responses: anything, checked by the assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on it
export type Json = any;

export interface Harness {
  db: TestDatabase;
  api: RunningApi;
  url: string;
  admin: string;
  alice: string;
  bob: string;
  close(): Promise<void>;
}

export async function startHarness(config: Partial<ApiConfig> = {}): Promise<Harness> {
  const db = await freshDatabase();
  const api = await startApi({ pool: db.pool, port: 0, config: { logLevel: 'silent', ...config } });
  const admin = (await api.identity.createToken({ user: 'admin', admin: true })).token;
  await api.identity.upsertUser({ name: 'alice', groups: ['analysts'] });
  const alice = (await api.identity.createToken({ user: 'alice' })).token;
  const bob = (await api.identity.createToken({ user: 'bob' })).token;
  return {
    db,
    api,
    url: api.url,
    admin,
    alice,
    bob,
    async close() {
      await api.close();
      await db.drop();
    },
  };
}

export interface Sent {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

export interface SendOptions {
  token?: string | undefined;
  body?: unknown;
  /** Sent as is (a string or bytes) instead of JSON. */
  raw?: string | Uint8Array<ArrayBuffer>;
  contentType?: string;
  headers?: Record<string, string>;
}

/** One request; the body parsed as JSON when it is JSON. */
export async function send(
  h: Harness,
  method: string,
  path: string,
  opts: SendOptions = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    if (opts.contentType) headers['content-type'] = opts.contentType;
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/json';
  }
  const res = await fetch(h.url + path, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export const BASE = '/apis/berth/v1alpha1';

export interface WatchStream {
  status: number;
  contentType: string;
  /** The next event (NDJSON line or SSE `data:`), waiting at most `ms`. */
  next(ms?: number): Promise<Json>;
  close(): void;
}

/** Opens a watch and parses its events as they arrive. */
export async function openWatch(
  h: Harness,
  path: string,
  token: string,
  sse = false,
): Promise<WatchStream> {
  const abort = new AbortController();
  const res = await fetch(h.url + path, {
    headers: { authorization: `Bearer ${token}`, ...(sse ? { accept: 'text/event-stream' } : {}) },
    signal: abort.signal,
  });
  const events: Json[] = [];
  const waiters: (() => void)[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  const pump = async () => {
    if (!res.body) return;
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        const sep = sse ? '\n\n' : '\n';
        let i = buffer.indexOf(sep);
        while (i >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + sep.length);
          if (sse) {
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) events.push(JSON.parse(data));
          } else if (block.trim()) {
            events.push(JSON.parse(block));
          }
          i = buffer.indexOf(sep);
        }
        for (const w of waiters.splice(0)) w();
      }
    } catch {
      // aborted
    }
  };
  void pump();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    async next(ms = 5000) {
      const deadline = Date.now() + ms;
      while (events.length === 0) {
        if (Date.now() > deadline) throw new Error('no watch event in time');
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return events.shift();
    },
    close() {
      abort.abort();
    },
  };
}
