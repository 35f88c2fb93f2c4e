// The HTTP server: one port for ECS (AWS JSON 1.1, dispatched on X-Amz-Target),
// EC2 (Query protocol, form-encoded), the task metadata endpoint (/v4/...) and
// ecs-local's admin endpoint (/_ecs-local/...).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ADMIN_PREFIX, handleAdmin } from './admin.ts';
import type { EcsContext } from './context.ts';
import { Ec2Error, ec2ErrorXml, ec2Response, handleEc2 } from './ec2-query.ts';
import type { MetadataEndpoint } from './metadata-endpoint.ts';
import { ECS_TARGET_PREFIX, OPERATIONS } from './operations.ts';
import {
  AwsError,
  newRequestId,
  sendAwsError,
  sendJson,
  serverError,
  throttled,
} from './protocol.ts';
import type { Throttle } from './throttle.ts';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface ServerDeps {
  ctx: EcsContext;
  throttle: Throttle;
  metadata: MetadataEndpoint;
  logger: Logger;
}

export function createEcsServer(deps: ServerDeps): Server {
  return createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.logger.error({ err: (err as Error).message }, 'ecs-local: request failed');
      if (!res.headersSent) sendAwsError(res, serverError('Internal error.'), newRequestId());
      else res.destroy();
    });
  });
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const method = req.method ?? 'GET';
  if (path.startsWith('/v4/') && method === 'GET') {
    if (deps.metadata.handle(path, res)) return;
  }
  let body: string;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      res.writeHead(413).end();
      return;
    }
    throw err;
  }
  if (path.startsWith(`${ADMIN_PREFIX}/`)) {
    handleAdmin(method, path, body, res, deps.ctx.engine, deps.ctx.faults);
    return;
  }
  const target = req.headers['x-amz-target'];
  if (method === 'POST' && typeof target === 'string') {
    await handleEcs(deps, target, body, res);
    return;
  }
  const contentType = req.headers['content-type'] ?? '';
  if (method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
    handleEc2Request(deps, body, res);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('ecs-local: not found\n');
}

async function handleEcs(
  deps: ServerDeps,
  target: string,
  text: string,
  res: ServerResponse,
): Promise<void> {
  const requestId = newRequestId();
  const dot = target.indexOf('.');
  const operation = target.slice(dot + 1);
  const handler = target.slice(0, dot) === ECS_TARGET_PREFIX ? OPERATIONS[operation] : undefined;
  if (!handler) {
    sendAwsError(
      res,
      new AwsError('UnknownOperationException', `Unknown operation ${target}`),
      requestId,
    );
    return;
  }
  const { faults } = deps.ctx;
  const latency = faults.latencyFor(operation);
  if (latency > 0) await sleep(latency);
  try {
    let body: unknown;
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new AwsError('SerializationException', 'Request body is not valid JSON.');
    }
    const set = faults.errorFor(operation);
    if (set) throw new AwsError(set.code, set.message, set.status);
    const injected = faults.injectedError();
    if (injected === 'throttling') throw throttled();
    if (injected === 'server') throw serverError();
    // Fargate's launch bucket counts tasks launched, its RunTask bucket calls.
    const count = (body as { count?: unknown }).count;
    const tasks =
      operation === 'RunTask' && typeof count === 'number' && count >= 1 && count <= 10 ? count : 1;
    if (!deps.throttle.allow(operation, tasks)) throw throttled();
    const result = handler(deps.ctx, body);
    sendJson(res, 200, result, requestId);
  } catch (err) {
    if (err instanceof AwsError) {
      sendAwsError(res, err, requestId);
      return;
    }
    deps.logger.error({ err: (err as Error).message, operation }, 'ecs-local: operation failed');
    sendAwsError(res, serverError('Internal error.'), requestId);
  }
}

function handleEc2Request(deps: ServerDeps, text: string, res: ServerResponse): void {
  const requestId = newRequestId();
  const form = new URLSearchParams(text);
  try {
    const { action, body } = handleEc2(deps.ctx.config, deps.ctx.engine, form);
    const xml = ec2Response(action, requestId, body);
    res.writeHead(200, {
      'content-type': 'text/xml;charset=UTF-8',
      'content-length': Buffer.byteLength(xml),
    });
    res.end(xml);
  } catch (err) {
    const e =
      err instanceof Ec2Error
        ? err
        : new Ec2Error('InternalError', 'An internal error has occurred');
    const xml = ec2ErrorXml(e, requestId);
    res.writeHead(e.code === 'InternalError' ? 500 : 400, {
      'content-type': 'text/xml;charset=UTF-8',
      'content-length': Buffer.byteLength(xml),
    });
    res.end(xml);
  }
}
