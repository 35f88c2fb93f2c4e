// Users (admin only): list them, read one, and disable or enable one with a
// merge patch `{"disabled": true}`. Disabling ends the user's sessions and
// tokens in one transaction (store/identity.ts; the deletions notify every proxy
// and API, which close the user's open WebSockets and watches), then stops each
// of their running ToolInstances through the store, with an Event saying why.
// Enabling restores sign-in, not the old tokens.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError, type BerthObject, invalidFromZod, namespaceName } from '../../crds/index.ts';
import { recordAuditAfter, type User } from '../../store/index.ts';
import { auditFrom } from '../audit.ts';
import { requireAdmin } from '../authorize.ts';
import { parseBody } from '../body.ts';
import { type BodyFormat, objectBodyFormat, patchFormat } from '../content-types.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { emptyQuery, parseQuery } from '../query.ts';
import { API_BASE } from './resources.ts';

const userPatch = z.strictObject({ disabled: z.boolean() });

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A user as the API shows it (kubectl-like columns in `berth user list`). */
function shown(u: User) {
  return {
    name: u.name,
    ...(u.email ? { email: u.email } : {}),
    ...(u.displayName ? { displayName: u.displayName } : {}),
    groups: u.groups,
    admin: u.admin,
    disabled: u.disabledAt !== undefined,
    ...(u.disabledAt ? { disabledAt: u.disabledAt } : {}),
    createdAt: u.createdAt,
  };
}

/** application/merge-patch+json, or plain JSON/YAML (the patch is one field either way). */
function userPatchFormat(header: string | undefined): BodyFormat {
  if (header?.toLowerCase().includes('merge-patch')) {
    const f = patchFormat(header);
    if (f.kind === 'merge') return f.format;
  }
  return objectBodyFormat(header);
}

function notFound(name: string): ApiError {
  return new ApiError('NotFound', `user "${name}" not found`, { kind: 'users', name });
}

function allow(reply: FastifyReply, methods: string[]): never {
  reply.header('Allow', methods.join(', '));
  throw new ApiError('MethodNotAllowed', `method not allowed here; allowed: ${methods.join(', ')}`);
}

function userName(req: FastifyRequest): string {
  const r = namespaceName.safeParse((req.params as { name: string }).name);
  if (!r.success)
    throw new ApiError('BadRequest', `user name in the URL: ${r.error.issues[0]!.message}`);
  return r.data;
}

/** Stops every running instance in the user's namespace, each with an Event naming why. */
async function stopInstancesOf(deps: ApiDeps, user: string, by: string): Promise<number> {
  const list = await deps.store.list('ToolInstance', { namespace: user });
  let stopped = 0;
  for (const ti of list.items as BerthObject[]) {
    const spec = ti.spec as { state?: string } | undefined;
    if (spec?.state !== 'Running') continue;
    const key = { namespace: user, name: ti.metadata.name };
    try {
      await deps.store.patch('ToolInstance', key, { spec: { state: 'Stopped' } }, {});
    } catch (err) {
      // Deleted meanwhile: nothing to stop.
      if (err instanceof ApiError && err.code === 404) continue;
      throw err;
    }
    stopped++;
    await deps.store.recordEvent({
      involvedObject: {
        kind: 'ToolInstance',
        namespace: user,
        name: ti.metadata.name,
        ...(ti.metadata.uid ? { uid: ti.metadata.uid } : {}),
      },
      type: 'Normal',
      reason: 'UserDisabled',
      message: `Stopped because user "${user}" was disabled by "${by}"`,
      source: { component: 'berth-api' },
    });
  }
  return stopped;
}

export function registerUserRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const timed = <T>(work: Promise<T>) =>
    withTimeout(work, deps.config.requestTimeoutMs, 'the request');

  app.route({
    method: METHODS,
    url: `${API_BASE}/users`,
    handler: async (req, reply) => {
      const p = principalOf(req);
      parseQuery(emptyQuery, req.query);
      if (req.method !== 'GET' && req.method !== 'HEAD') allow(reply, ['GET', 'HEAD']);
      requireAdmin(p, 'list users');
      const users = await timed(deps.identity.listUsers());
      return { apiVersion: 'v1', kind: 'UserList', items: users.map(shown) };
    },
  });

  app.route({
    method: METHODS,
    url: `${API_BASE}/users/:name`,
    handler: async (req, reply) => {
      const p = principalOf(req);
      parseQuery(emptyQuery, req.query);
      const name = userName(req);
      if (req.method === 'GET' || req.method === 'HEAD') {
        requireAdmin(p, 'read users');
        const u = await timed(deps.identity.getUser(name));
        if (!u) throw notFound(name);
        return shown(u);
      }
      if (req.method !== 'PATCH') allow(reply, ['GET', 'HEAD', 'PATCH']);
      requireAdmin(p, 'disable or enable users');
      const raw = parseBody(
        req.body as Buffer | undefined,
        userPatchFormat(req.headers['content-type']),
        deps.config.maxBodyDepth,
      );
      const parsed = userPatch.safeParse(raw ?? {});
      if (!parsed.success) throw invalidFromZod('User', name, parsed.error);
      if (parsed.data.disabled && name === p.name)
        throw new ApiError('Forbidden', 'you cannot disable yourself', { kind: 'users', name });
      if (!parsed.data.disabled) {
        const u = await timed(deps.identity.enableUser(name));
        if (!u) throw notFound(name);
        req.log.info({ user: name, by: p.name }, 'user enabled');
        await recordAuditAfter(
          deps.pool,
          { ...auditFrom(req), action: 'user.enabled', target: { kind: 'User', name, user: name } },
          req.log,
        );
        return shown(u);
      }
      const d = await timed(deps.identity.disableUser(name));
      if (!d) throw notFound(name);
      const stopped = await timed(stopInstancesOf(deps, name, p.name));
      req.log.info(
        { user: name, by: p.name, sessions: d.sessions, tokens: d.tokens, stopped },
        'user disabled',
      );
      await recordAuditAfter(
        deps.pool,
        {
          ...auditFrom(req),
          action: 'user.disabled',
          target: { kind: 'User', name, user: name },
          detail: {
            sessionsEnded: d.sessions,
            apiKeysRevoked: d.tokens,
            instancesStopped: stopped,
          },
        },
        req.log,
      );
      return shown(d.user);
    },
  });
}
