// sidecars/s3sync/: the home folder kept in step with the user's S3 prefix (see README.md).
export {
  DEFAULT_EXCLUDES,
  loadS3syncConfig,
  type S3syncConfig,
  s3syncConfigSchema,
} from './config.ts';
export { conflictName } from './conflicts.ts';
export { excluder } from './excludes.ts';
export { keyFromRel, relFromKey } from './paths.ts';
export { type Action, plan } from './plan.ts';
export { partSizeFor } from './uploader.ts';
