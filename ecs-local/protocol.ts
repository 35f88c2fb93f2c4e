// AWS JSON 1.1 wire details shared by every ECS operation: the error shape the SDK
// parses (`__type` + `message`, HTTP status by error kind), request ids and
// timestamps as epoch seconds (the SDK's JSON protocol reads numbers as seconds).
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** An error answered to the client as ECS would answer it. */
export class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  readonly extra: Record<string, unknown>;
  constructor(type: string, message: string, status = 400, extra: Record<string, unknown> = {}) {
    super(message);
    this.type = type;
    this.status = status;
    this.extra = extra;
  }
}

// The error kinds ECS uses. ServerException is the only 5xx ECS models; the rest are 400.
export const invalidParameter = (message: string) =>
  new AwsError('InvalidParameterException', message);
export const clientError = (message: string) => new AwsError('ClientException', message);
export const clusterNotFound = () => new AwsError('ClusterNotFoundException', 'Cluster not found.');
export const resourceNotFound = (message = 'The specified resource could not be found.') =>
  new AwsError('ResourceNotFoundException', message);
export const throttled = () => new AwsError('ThrottlingException', 'Rate exceeded');
export const serverError = (message = 'Service Unavailable. Please try again later.') =>
  new AwsError('ServerException', message, 500);
export const conflict = (message: string, resourceIds: string[]) =>
  new AwsError('ConflictException', message, 400, { resourceIds });

export function newRequestId(): string {
  return randomUUID();
}

/** ECS timestamps: epoch seconds with millisecond precision. */
export function epochSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  });
  res.end(text);
}

export function sendAwsError(res: ServerResponse, err: AwsError, requestId: string): void {
  const body = { __type: err.type, message: err.message, ...err.extra };
  const text = JSON.stringify(body);
  res.writeHead(err.status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': err.type,
  });
  res.end(text);
}

/** Drops undefined members so responses look like ECS's (absent, not null). */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out as T;
}
