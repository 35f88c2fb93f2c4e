// The harness's client of `berth api`, as a user's program talks to it: a bearer
// token, JSON, merge patches. A write counts as acknowledged only when the API
// answered 2xx with the object (and so its resourceVersion).
import { request } from 'undici';
import { API_VERSION, type ToolInstance } from '../../../crds/index.ts';

const PREFIX = `/apis/${API_VERSION}`;

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class BerthApi {
  private readonly url: () => string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(url: () => string, token: string, timeoutMs = 10_000) {
    this.url = url;
    this.token = token;
    this.timeoutMs = timeoutMs;
  }

  async call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await request(`${this.url()}${PREFIX}${path}`, {
      method: method as 'GET',
      headers: {
        authorization: `Bearer ${this.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': contentType ?? 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) {
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON
      }
      throw new ApiError(r.statusCode, `${method} ${path}: ${r.statusCode} ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  create(plural: string, ns: string | undefined, body: unknown): Promise<unknown> {
    return this.call('POST', `${ns ? `/namespaces/${ns}` : ''}/${plural}`, body);
  }

  /** Sets spec.state; returns the stored object (its resourceVersion is the acknowledgement). */
  setState(ns: string, name: string, state: 'Running' | 'Stopped'): Promise<ToolInstance> {
    return this.call(
      'PATCH',
      `/namespaces/${ns}/toolinstances/${name}`,
      { spec: { state } },
      'application/merge-patch+json',
    );
  }

  async instances(ns?: string): Promise<ToolInstance[]> {
    const list = await this.call<{ items: ToolInstance[] }>(
      'GET',
      `${ns ? `/namespaces/${ns}` : ''}/toolinstances`,
    );
    return list.items;
  }

  deleteInstance(ns: string, name: string): Promise<unknown> {
    return this.call('DELETE', `/namespaces/${ns}/toolinstances/${name}`);
  }
}

/** The tiny tool (test/controllers/fixtures/tiny-http.c): 200 on every path, 1 MB a task. */
export function tinyToolDefinition(name: string): unknown {
  return {
    apiVersion: API_VERSION,
    kind: 'ToolDefinition',
    metadata: { name },
    spec: {
      displayName: name,
      image: 'berth/tiny:latest',
      port: 8080,
      sizes: { small: { cpu: 256, memory: 512 } },
      defaultSize: 'small',
      readiness: { path: '/healthz', timeoutSeconds: 2, periodSeconds: 1 },
      spawnTimeout: '2m',
    },
  };
}

export function toolInstance(ns: string, name: string, tool: string, state: string): unknown {
  return {
    apiVersion: API_VERSION,
    kind: 'ToolInstance',
    metadata: { name, namespace: ns },
    spec: { toolRef: tool, state },
  };
}
