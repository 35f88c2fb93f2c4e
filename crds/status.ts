// Errors as Kubernetes `Status` objects. Every layer throws ApiError; the API
// server turns it into the HTTP response, the CLI prints its message.
import type { z } from 'zod';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable';

const REASON_CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Invalid: 422,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

export interface StatusCause {
  /** Field path, e.g. `spec.sizes[0].cpu`. */
  field?: string;
  message: string;
  /** Kubernetes cause type, e.g. FieldValueInvalid, FieldValueRequired. */
  reason?: string;
}

export interface StatusDetails {
  name?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason;
  code: number;
  details?: StatusDetails;
}

export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = REASON_CODES[reason];
    this.details = details;
  }

  toStatus(): Status {
    return {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
      ...(this.details ? { details: this.details } : {}),
    };
  }

  static fromStatus(s: Status): ApiError {
    return new ApiError(s.reason, s.message, s.details);
  }
}

export function isApiError(err: unknown, reason?: StatusReason): err is ApiError {
  return err instanceof ApiError && (reason === undefined || err.reason === reason);
}

/** `spec.sizes[0].cpu` from a zod issue path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function causeReason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message))
    return 'FieldValueRequired';
  if (issue.code === 'unrecognized_keys') return 'FieldValueNotSupported';
  if (issue.code === 'invalid_value') return 'FieldValueNotSupported';
  return 'FieldValueInvalid';
}

/** 422 Invalid with one cause per zod issue (unknown keys get one cause each). */
export function invalidFromZod(
  kind: string,
  name: string | undefined,
  error: z.ZodError,
): ApiError {
  const causes: StatusCause[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        causes.push({
          field: fieldPath([...issue.path, key]),
          message: 'unknown field',
          reason: 'FieldValueNotSupported',
        });
      }
    } else {
      causes.push({
        field: fieldPath(issue.path),
        message: issue.message,
        reason: causeReason(issue),
      });
    }
  }
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  const what = name ? `${kind} "${name}"` : kind;
  return new ApiError('Invalid', `${what} is invalid: ${summary}`, {
    kind,
    ...(name ? { name } : {}),
    causes,
  });
}
