// Task role credentials, as the ECS agent serves them to a task's containers:
// a task run with a task role gets AWS_CONTAINER_CREDENTIALS_FULL_URI (this
// server's loopback URL for the task) and AWS_CONTAINER_AUTHORIZATION_TOKEN
// (random, per task); a GET there with that token in Authorization answers
// short-lived session credentials for the role, bound to the task. The SDK's
// default chain (fromHttp) reads them unchanged. They stop working once the task
// has stopped. Nothing here is ever logged.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export const CREDENTIALS_PREFIX = '/_ecs-local/credentials/';

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  roleArn: string;
  taskArn: string;
}

interface TaskEntry {
  id: string;
  token: string;
  roleArn: string;
  taskArn: string;
}

export interface TaskCredentialsDeps {
  /** ecs-local's own URL, e.g. http://127.0.0.1:4566 (known once listening). */
  baseUrl: () => string;
  /** Whether the task still runs (credentials die with it). */
  isLive: (taskArn: string) => boolean;
  ttlMs: number;
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class TaskCredentials {
  readonly #deps: TaskCredentialsDeps;
  readonly #byTask = new Map<string, TaskEntry>();
  readonly #byId = new Map<string, TaskEntry>();
  readonly #sessions = new Map<string, SessionCredentials>();

  constructor(deps: TaskCredentialsDeps) {
    this.#deps = deps;
  }

  /** The environment every container of the task gets (none without a role). */
  envFor(taskArn: string, roleArn: string | undefined): Record<string, string> {
    if (!roleArn) return {};
    let entry = this.#byTask.get(taskArn);
    if (!entry) {
      entry = {
        id: randomBytes(18).toString('base64url'),
        token: randomBytes(32).toString('base64url'),
        roleArn,
        taskArn,
      };
      this.#byTask.set(taskArn, entry);
      this.#byId.set(entry.id, entry);
    }
    return {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${this.#deps.baseUrl()}${CREDENTIALS_PREFIX}${entry.id}`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: entry.token,
    };
  }

  /** Answers GET /_ecs-local/credentials/<id> as the agent does. */
  handle(path: string, authorization: string | undefined, res: ServerResponse): void {
    const entry = this.#byId.get(path.slice(CREDENTIALS_PREFIX.length));
    if (authorization === undefined || authorization === '') {
      send(res, 401, {
        code: 'NoAuthorizationToken',
        message: 'Authorization header is missing.',
      });
      return;
    }
    if (!entry || !sameToken(entry.token, authorization) || !this.#deps.isLive(entry.taskArn)) {
      send(res, 403, {
        code: 'AccessDenied',
        message: 'Unable to get credentials: the authorization token is not valid for this task.',
      });
      return;
    }
    const session = this.#mint(entry);
    send(res, 200, {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      Token: session.sessionToken,
      Expiration: new Date(session.expiresAt).toISOString(),
      RoleArn: session.roleArn,
    });
  }

  /** Session credentials by access key ID: undefined when unknown, else with why they no longer work. */
  lookup(
    accessKeyId: string,
    now = Date.now(),
  ): { session: SessionCredentials; invalid?: 'expired' | 'taskStopped' } | undefined {
    const session = this.#sessions.get(accessKeyId);
    if (!session) return undefined;
    if (session.expiresAt <= now) return { session, invalid: 'expired' };
    if (!this.#deps.isLive(session.taskArn)) return { session, invalid: 'taskStopped' };
    return { session };
  }

  #mint(entry: TaskEntry): SessionCredentials {
    const now = Date.now();
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
    const session: SessionCredentials = {
      accessKeyId: `ASIA${[...randomBytes(16)].map((b) => KEY_ALPHABET[b % 32]).join('')}`,
      secretAccessKey: randomBytes(30).toString('base64').replaceAll('+', 'A').replaceAll('/', 'B'),
      sessionToken: randomBytes(96).toString('base64'),
      expiresAt: now + this.#deps.ttlMs,
      roleArn: entry.roleArn,
      taskArn: entry.taskArn,
    };
    this.#sessions.set(session.accessKeyId, session);
    return session;
  }
}

function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
