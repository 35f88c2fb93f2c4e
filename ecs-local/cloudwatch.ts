// CloudWatch's GetMetricData on ecs-local's one URL, as @aws-sdk/client-cloudwatch
// sends it: AWS JSON 1.0, `X-Amz-Target: GraniteServiceVersion20100801.<op>`,
// signed for service `monitoring`. CloudWatch is awsQueryCompatible, so every
// error carries, beside `__type`, the header `x-amzn-query-error: <Code>;Sender`
// from which the SDK takes the error's code (InvalidParameterValue, ...).
import type { ServerResponse } from 'node:http';
import type { AuthFailure } from './auth.ts';
import { CloudWatchError, getMetricData } from './cloudwatch-query.ts';
import type { TaskMetricsSampler } from './cloudwatch-sampler.ts';
import { newRequestId } from './protocol.ts';

export const CLOUDWATCH_TARGET_PREFIX = 'GraniteServiceVersion20100801';
/** The SigV4 service name CloudWatch signs for. */
export const CLOUDWATCH_SIGNING_SERVICE = 'monitoring';

const CONTENT_TYPE = 'application/x-amz-json-1.0';

// CloudWatch's refusals of a request it cannot authenticate (403, as its Query API answers).
const AUTH_ERRORS: Record<AuthFailure['kind'], [type: string, code: string]> = {
  missing: ['MissingAuthenticationTokenException', 'MissingAuthenticationToken'],
  unknownKey: ['UnrecognizedClientException', 'InvalidClientTokenId'],
  badSignature: ['InvalidSignatureException', 'SignatureDoesNotMatch'],
  expired: ['InvalidSignatureException', 'SignatureDoesNotMatch'],
};

export function sendCloudWatchAuthError(res: ServerResponse, failure: AuthFailure): void {
  const [type, code] = AUTH_ERRORS[failure.kind];
  sendError(res, new CloudWatchError(type, code, failure.message, 403));
}

/** Answers `GraniteServiceVersion20100801.<operation>` (only GetMetricData is known). */
export function handleCloudWatch(
  sampler: TaskMetricsSampler,
  operation: string,
  text: string,
  res: ServerResponse,
): void {
  try {
    if (operation !== 'GetMetricData')
      throw new CloudWatchError(
        'InvalidAction',
        'InvalidAction',
        `ecs-local answers CloudWatch's GetMetricData only, not ${operation}.`,
      );
    let body: unknown;
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new CloudWatchError(
        'SerializationException',
        'SerializationException',
        'Request body is not valid JSON.',
      );
    }
    const answer = getMetricData((c, f, t) => sampler.find(c, f, t), body);
    send(res, 200, answer);
  } catch (err) {
    if (err instanceof CloudWatchError) sendError(res, err);
    else
      sendError(
        res,
        new CloudWatchError('InternalServiceFault', 'InternalServiceError', 'Internal error.', 500),
      );
  }
}

function sendError(res: ServerResponse, err: CloudWatchError): void {
  const fault = err.status >= 500 ? 'Receiver' : 'Sender';
  send(
    res,
    err.status,
    { __type: err.type, message: err.message },
    {
      'x-amzn-query-error': `${err.code};${fault}`,
      'x-amzn-errortype': err.type,
    },
  );
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': newRequestId(),
    ...headers,
  });
  res.end(text);
}
