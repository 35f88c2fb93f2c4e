// Every error leaves the API as a Kubernetes Status. ApiErrors pass through;
// fastify's own client errors keep their 4xx code with a Status around them;
// PostgreSQL data errors caused by input become 4xx; anything else is a 500
// with a generic message (the details go to the log, never to the client).
import { ApiError, type StatusReason } from '../crds/index.ts';

const REASON_BY_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  408: 'Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

// fastify error codes whose messages are written for clients.
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body is larger than the limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request body does not match its Content-Length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request body is empty',
};

interface ErrorLike {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
}

/** Maps any thrown value to an ApiError that is safe to send. */
export function toApiError(err: unknown, limits: { bodyLimitBytes: number }): ApiError {
  if (err instanceof ApiError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError(
      'RequestEntityTooLarge',
      `request body is larger than the limit of ${limits.bodyLimitBytes} bytes`,
    );
  }
  // fastify's client errors (bad URL, content length, media type, ...).
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const reason = REASON_BY_CODE[e.statusCode] ?? 'BadRequest';
    const message = FASTIFY_MESSAGES[code] ?? (typeof e.message === 'string' ? e.message : reason);
    return new ApiError(reason, message);
  }
  // PostgreSQL SQLSTATEs that input can cause (and the store did not catch first).
  if (/^22[0-9A-Z]{3}$/.test(code)) {
    return new ApiError('BadRequest', 'request contains data the database cannot store');
  }
  if (code === '54001' || code === '54000') {
    return new ApiError('BadRequest', 'request is too large or too deeply nested to store');
  }
  if (code === '40001' || code === '40P01') {
    return new ApiError('Conflict', 'the write conflicted with a concurrent write; retry it');
  }
  if (code === '57014') return new ApiError('Timeout', 'the database query took too long');
  if (code === '53300' || code === 'ECONNREFUSED' || /^08/.test(code)) {
    return new ApiError('ServiceUnavailable', 'the database is unavailable; retry later', {
      retryAfterSeconds: 1,
    });
  }
  return new ApiError('InternalError', 'internal error; the server log has the details');
}
