// The credentials engine's facade: what the reconcilers call. Each function takes
// the admin pool of one Database (admin-pools.ts); every role change runs under
// the role lock (role-lock.ts, role-change.ts); every statement is in statements.ts.
export {
  dropDataset,
  type SyncDatasetInput,
  type SyncDatasetResult,
  syncDataset,
  type TableRef,
} from './datasets.ts';
export { type LaunchLoginInput, prepareLaunchLogin } from './launch.ts';
export { disableLogin, dropLogin, gcLogins, type LoginInfo, listLogins } from './logins.ts';
export { credentialsKeySchema, loginPassword } from './password.ts';
export { scramVerifier } from './scram.ts';
export { listSubjects, type Subject, subjectRole, subjectSchema } from './subjects.ts';
