// controllers/files/: the controllers' side of users' files. Per user an IAM
// file role allowing only their home prefix (passed to RunTask as the task
// role), and the files environment of their tools' containers.
import { type FilesConfig, loadFilesConfig } from './config.ts';
import { FileRoles } from './file-roles.ts';
import { createIamClient } from './iam-client.ts';

export { type FilesConfig, filesConfigSchema, loadFilesConfig } from './config.ts';
export { filesEnvironment } from './environment.ts';
export {
  type EnsureOutcome,
  type FileRole,
  FileRoles,
  FileRoleUnavailable,
  mayBeRoleProblem,
  ROLE_CACHE_MS,
} from './file-roles.ts';
export { createIamClient } from './iam-client.ts';
export {
  accountOf,
  FILES_POLICY_NAME,
  fileRoleName,
  filesPolicy,
  OBJECT_ACTIONS,
  type PolicyDocument,
  type PolicyStatement,
  trustPolicy,
  USER_UID_TAG,
} from './policy.ts';

export interface Files {
  config: FilesConfig & { bucket: string };
  roles: FileRoles;
  close(): void;
}

/** The files side of the controllers, or undefined while BERTH_FILES_BUCKET is unset (files off). */
export function createFiles(
  env: Record<string, string | undefined>,
  overrides: Partial<FilesConfig> = {},
): Files | undefined {
  const config = { ...loadFilesConfig(env), ...overrides };
  if (!config.bucket) return undefined;
  const withBucket = { ...config, bucket: config.bucket };
  const iam = createIamClient(withBucket);
  return {
    config: withBucket,
    roles: new FileRoles(iam, withBucket),
    close: () => iam.destroy(),
  };
}
