// The HTTP server: one port for ECS (AWS JSON 1.1, dispatched on X-Amz-Target),
// CloudWatch's GetMetricData (AWS JSON 1.0), EC2 (Query protocol, form-encoded), the task metadata endpoint (/v4/...) and
// ecs-local's admin endpoint (/_ecs-local/...). Every request must name this
// server in Host; every ECS, EC2 and admin request (but the health check) must be
// SigV4-signed with ecs-local's key pair. The metadata endpoint stays unsigned,
// as the tasks use it; it only reads.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ADMIN_PREFIX, handleAdmin } from './admin.ts';
import { type AccessKeyPair, type AuthFailure, verifySignature } from './auth.ts';
import {
  CLOUDWATCH_SIGNING_SERVICE,
  CLOUDWATCH_TARGET_PREFIX,
  handleCloudWatch,
  sendCloudWatchAuthError,
} from './cloudwatch.ts';
import type { TaskMetricsSampler } from './cloudwatch-sampler.ts';
import type { EcsContext } from './context.ts';
import { Ec2Error, ec2ErrorXml, ec2Response, handleEc2 } from './ec2-query.ts';
import { hostAllowed } from './host-check.ts';
import { handleIam, iamErrorXml } from './iam-query.ts';
import { IamError, type IamRoles } from './iam-roles.ts';
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
import { signedService } from './s3-auth.ts';
import type { S3Front } from './s3-front.ts';
import { SECRETS_TARGET_PREFIX, type SecretsManager } from './secrets-manager.ts';
import { CREDENTIALS_PREFIX, type TaskCredentials } from './task-credentials.ts';
import type { Throttle } from './throttle.ts';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface ServerDeps {
  ctx: EcsContext;
  throttle: Throttle;
  metadata: MetadataEndpoint;
  secrets: SecretsManager;
  /** Container Insights' task metrics, for CloudWatch's GetMetricData. */
  metrics: TaskMetricsSampler;
  iam: IamRoles;
  taskCredentials: TaskCredentials;
  /** S3's front, when S3 is on. */
  s3: S3Front | undefined;
  logger: Logger;
  /** The pair every signed request must be signed with. */
  credentials: AccessKeyPair;
  /** The port actually listened on (known once listening), for the Host check. */
  port(): number;
}

// AWS's answers to a request it cannot authenticate, per protocol.
const ECS_AUTH_ERRORS: Record<AuthFailure['kind'], string> = {
  missing: 'MissingAuthenticationTokenException',
  unknownKey: 'UnrecognizedClientException',
  badSignature: 'InvalidSignatureException',
  expired: 'InvalidSignatureException',
};
const EC2_AUTH_ERRORS: Record<AuthFailure['kind'], [string, number]> = {
  missing: ['MissingAuthenticationToken', 401],
  unknownKey: ['AuthFailure', 401],
  badSignature: ['SignatureDoesNotMatch', 403],
  expired: ['RequestExpired', 400],
};

const IAM_AUTH_ERRORS: Record<AuthFailure['kind'], [string, number]> = {
  missing: ['MissingAuthenticationToken', 403],
  unknownKey: ['InvalidClientTokenId', 403],
  badSignature: ['SignatureDoesNotMatch', 403],
  expired: ['RequestExpired', 400],
};

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
  if (!hostAllowed(req.headers.host, deps.ctx.config.host, deps.port())) {
    res
      .writeHead(403, { 'content-type': 'text/plain' })
      .end('ecs-local: the Host header does not name this server\n');
    return;
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const method = req.method ?? 'GET';
  if (path.startsWith('/v4/') && method === 'GET') {
    if (deps.metadata.handle(path, res)) return;
  }
  // A task's credentials: its own token is the authentication (as the ECS agent's).
  if (path.startsWith(CREDENTIALS_PREFIX) && method === 'GET') {
    deps.taskCredentials.handle(path, req.headers.authorization, res);
    return;
  }
  // S3 streams its bodies: routed before anything reads one.
  if (deps.s3 && !path.startsWith(`${ADMIN_PREFIX}/`) && deps.s3.claims(req)) {
    await deps.s3.handle(req, res);
    return;
  }
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      res.writeHead(413).end();
      return;
    }
    throw err;
  }
  const body = raw.toString('utf8');
  const verify = (service: string) =>
    verifySignature(
      { method, url: req.url ?? '/', headers: req.headers, body: raw },
      deps.credentials,
      service,
    );
  if (path.startsWith(`${ADMIN_PREFIX}/`)) {
    const failure = path === `${ADMIN_PREFIX}/health` ? undefined : await verify('ecs-local');
    if (failure) {
      const text = JSON.stringify({ error: failure.message });
      res.writeHead(403, { 'content-type': 'application/json' }).end(text);
      return;
    }
    handleAdmin(method, path, body, res, deps.ctx, deps.secrets);
    return;
  }
  const target = req.headers['x-amz-target'];
  if (
    method === 'POST' &&
    typeof target === 'string' &&
    target.startsWith(`${SECRETS_TARGET_PREFIX}.`)
  ) {
    const failure = await verify('secretsmanager');
    if (failure) {
      const type = ECS_AUTH_ERRORS[failure.kind];
      sendAwsError(res, new AwsError(type, failure.message), newRequestId());
      return;
    }
    handleSecrets(deps.secrets, target.slice(SECRETS_TARGET_PREFIX.length + 1), body, res);
    return;
  }
  if (
    method === 'POST' &&
    typeof target === 'string' &&
    target.startsWith(`${CLOUDWATCH_TARGET_PREFIX}.`)
  ) {
    const failure = await verify(CLOUDWATCH_SIGNING_SERVICE);
    if (failure) sendCloudWatchAuthError(res, failure);
    else
      handleCloudWatch(deps.metrics, target.slice(CLOUDWATCH_TARGET_PREFIX.length + 1), body, res);
    return;
  }
  if (method === 'POST' && typeof target === 'string') {
    const failure = await verify('ecs');
    if (failure) {
      const type = ECS_AUTH_ERRORS[failure.kind];
      sendAwsError(res, new AwsError(type, failure.message), newRequestId());
      return;
    }
    await handleEcs(deps, target, body, res);
    return;
  }
  const contentType = req.headers['content-type'] ?? '';
  const formPost = method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded');
  if (formPost && signedService(req.url ?? '/', req.headers) === 'iam') {
    const failure = await verify('iam');
    if (failure) {
      const [code, status] = IAM_AUTH_ERRORS[failure.kind];
      sendXmlText(res, status, iamErrorXml(new IamError(code, failure.message, status)));
      return;
    }
    const answer = handleIam(deps.iam, new URLSearchParams(body));
    sendXmlText(res, answer.status, answer.xml);
    return;
  }
  if (formPost) {
    const failure = await verify('ec2');
    if (failure) {
      const [code, status] = EC2_AUTH_ERRORS[failure.kind];
      sendEc2Error(res, new Ec2Error(code, failure.message), status, newRequestId());
      return;
    }
    handleEc2Request(deps, body, res);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('ecs-local: not found\n');
}

function sendXmlText(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': newRequestId(),
  });
  res.end(xml);
}

function handleSecrets(
  secrets: SecretsManager,
  operation: string,
  text: string,
  res: ServerResponse,
): void {
  const requestId = newRequestId();
  try {
    let body: unknown;
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new AwsError('SerializationException', 'Request body is not valid JSON.');
    }
    sendJson(res, 200, secrets.handle(operation, body), requestId);
  } catch (err) {
    if (err instanceof AwsError) sendAwsError(res, err, requestId);
    else sendAwsError(res, new AwsError('InternalServiceError', 'Internal error.', 500), requestId);
  }
}

function sendEc2Error(res: ServerResponse, e: Ec2Error, status: number, requestId: string): void {
  const xml = ec2ErrorXml(e, requestId);
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(xml),
  });
  res.end(xml);
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
    sendEc2Error(res, e, e.code === 'InternalError' ? 500 : 400, requestId);
  }
}
