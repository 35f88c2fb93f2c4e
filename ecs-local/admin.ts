// ecs-local's own endpoint (not part of any AWS API): faults, Spot interruption,
// container output, a process list for hygiene checks, and a security group's
// ingress rules (what DescribeSecurityGroups answers), and Secrets Manager's
// secrets (PUT /_ecs-local/secrets/<name> {"secretString": …}).
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { taskIdFrom } from './arns.ts';
import { ipPermissionSchema } from './config.ts';
import type { EcsContext } from './context.ts';
import { faultsPatchSchema } from './faults.ts';
import { type SecretsManager, secretName } from './secrets-manager.ts';

export const ADMIN_PREFIX = '/_ecs-local';

const spotSchema = z.strictObject({ noticeSeconds: z.number().min(0).max(600).optional() });
const secretBodySchema = z.strictObject({ secretString: z.string().max(65_536) });
const ingressSchema = z.strictObject({ ipPermissions: z.array(ipPermissionSchema) });

function json(res: ServerResponse, status: number, body: unknown): true {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
  return true;
}

function parseBody<S extends z.ZodType>(
  schema: S,
  text: string,
): { ok: true; value: z.infer<S> } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return { ok: false, message: 'body: expected JSON' };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const i = r.error.issues[0]!;
  return { ok: false, message: `${i.path.join('.') || 'body'}: ${i.message}` };
}

export function handleAdmin(
  method: string,
  path: string,
  body: string,
  res: ServerResponse,
  ctx: Pick<EcsContext, 'engine' | 'faults' | 'config'>,
  secrets: SecretsManager,
): true {
  const { engine, faults } = ctx;
  const network = ctx.config.network;
  const sub = path.slice(ADMIN_PREFIX.length);
  if (sub === '/health' && method === 'GET') return json(res, 200, { ok: true });
  if (sub === '/faults') {
    if (method === 'GET') return json(res, 200, faults.current);
    if (method === 'DELETE') return json(res, 200, faults.reset());
    if (method === 'POST') {
      const parsed = parseBody(faultsPatchSchema, body);
      if (!parsed.ok) return json(res, 400, { error: parsed.message });
      try {
        return json(res, 200, faults.patch(parsed.value));
      } catch (err) {
        return json(res, 400, { error: (err as Error).message });
      }
    }
  }
  if (sub === '/processes' && method === 'GET') {
    return json(res, 200, {
      processes: engine.processes().map((p) => ({ pid: p.pid, running: p.running })),
    });
  }
  const group = /^\/security-groups\/([^/]+)$/.exec(sub);
  if (group && method === 'PUT') {
    const found = network.securityGroups.find((g) => g.groupId === decodeURIComponent(group[1]!));
    if (!found) return json(res, 404, { error: 'security group not found' });
    const parsed = parseBody(ingressSchema, body);
    if (!parsed.ok) return json(res, 400, { error: parsed.message });
    found.ipPermissions = parsed.value.ipPermissions;
    return json(res, 200, found);
  }
  const secret = /^\/secrets\/(.+)$/.exec(sub);
  if (secret && method === 'PUT') {
    const name = secretName.safeParse(decodeURIComponent(secret[1]!));
    if (!name.success) return json(res, 400, { error: `name: ${name.error.issues[0]!.message}` });
    const parsed = parseBody(secretBodySchema, body);
    if (!parsed.ok) return json(res, 400, { error: parsed.message });
    return json(res, 200, secrets.put(name.data, parsed.value.secretString));
  }
  const spot = /^\/tasks\/([^/]+)\/spot-interruption$/.exec(sub);
  if (spot && method === 'POST') {
    const task = engine.get(taskIdFrom(decodeURIComponent(spot[1]!)));
    if (!task) return json(res, 404, { error: 'task not found' });
    const parsed = parseBody(spotSchema, body);
    if (!parsed.ok) return json(res, 400, { error: parsed.message });
    engine.interruptSpot(task, (parsed.value.noticeSeconds ?? 120) * 1000);
    return json(res, 202, { taskArn: task.arn });
  }
  const logs = /^\/tasks\/([^/]+)\/containers\/([^/]+)\/logs$/.exec(sub);
  if (logs && method === 'GET') {
    const task = engine.get(taskIdFrom(decodeURIComponent(logs[1]!)));
    const container = task?.containers.find((c) => c.name === decodeURIComponent(logs[2]!));
    if (!task || !container) return json(res, 404, { error: 'task or container not found' });
    const text = container.process?.output.text() ?? '';
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'x-ecs-local-dropped-bytes': String(container.process?.output.dropped ?? 0),
    });
    res.end(text);
    return true;
  }
  return json(res, 404, { error: `no such admin endpoint: ${method} ${path}` });
}
