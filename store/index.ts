// store/: PostgreSQL. Other folders import only from here.

export { type TryLockResult, withTryAdvisoryLock } from './advisory-lock.ts';
export { cleanManifest, LAST_APPLIED_ANNOTATION } from './apply.ts';
export {
  AUDIT_ACTIONS,
  AUDIT_HOWS,
  type AuditAction,
  type AuditEntry,
  type AuditFilter,
  type AuditHow,
  type AuditLogger,
  type AuditPage,
  type AuditRecord,
  auditEntrySchema,
  DEFAULT_AUDIT_RETENTION_MS,
  listAudit,
  recordAudit,
  recordAuditAfter,
  sweepAudit,
} from './audit.ts';
export { decodeContinue, encodeContinue } from './continue-token.ts';
export {
  createPool,
  type Pool,
  type PoolClient,
  type PoolOptions,
  redactUrl,
  withTransaction,
} from './db.ts';
export { type EmbeddedDatabase, freePort, startEmbeddedPostgres } from './embedded.ts';
export {
  DEFAULT_EVENT_TTL_MS,
  EVENT_KIND,
  eventName,
  newEvent,
  type RecordEventInput,
  recordEvent,
} from './events.ts';
export {
  CREDENTIALS_CHANNEL,
  Identity,
  type Principal,
  type TokenInfo,
  type TokenInput,
  type User,
  type UserInput,
} from './identity.ts';
export {
  type LaunchRate,
  type LaunchRefusalReason,
  LaunchRefused,
  launchAdmission,
  launchCheckAtStart,
} from './launch-guard.ts';
export { Listener, type ListenerOptions } from './listener.ts';
export { applyMergePatch, canonicalJson, deepEqual, isPlainObject } from './merge-patch.ts';
export { migrate } from './migrate.ts';
export { ResourceStore } from './resources.ts';
export { matchesSelector, parseSelector, type Requirement } from './selectors.ts';
export {
  type CreatedSession,
  type CreateSessionInput,
  type HandoffRedemption,
  handoffStateHash,
  isHandoffStateHash,
  type SessionPrincipal,
  Sessions,
} from './sessions.ts';
export {
  deriveToolSecret,
  generateToolSecretKey,
  TOOL_SECRET_HEADER,
  toolSecretKeySchema,
  toolSecretKeySetting,
} from './tool-secret.ts';
export type * from './types.ts';
export {
  type OpenTaskUsage,
  openTaskUsage,
  recordTaskStart,
  recordTaskStop,
  type TaskStart,
  taskStartSchema,
  USAGE_GROUPINGS,
  type UsageFigures,
  type UsageGrouping,
  type UsageQuery,
  type UsageReport,
  type UsageRow,
  usageSums,
} from './usage.ts';
export { NOTIFY_CHANNEL, Watch } from './watch.ts';
