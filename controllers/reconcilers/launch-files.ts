// A launch's files (controllers/files): for a per-user tool with files on, the
// user's uid (the users row of the namespace), their file role made sure of, and
// the files environment every container but the gate gets. Apart from
// instance-launch.ts, which runs it while the Starting write commits.
import type { ToolDefinition } from '../../crds/index.ts';
import { Identity } from '../../store/index.ts';
import { type FileRole, filesEnvironment } from '../files/index.ts';
import type { Run } from './instance-run.ts';

type Env = { name: string; value: string }[];

/** A launch's files: the user's role and the containers' files environment (empty: files off). */
export type LaunchFiles = { role?: FileRole; userUid?: string; environment: Env };

/**
 * Files for a per-user tool when files are on: the user's uid (the users row of
 * the namespace), their file role made sure of, the files environment. A shared
 * tool, or files off: nothing. A namespace with no users row has no home: the
 * tool launches without files, and a Warning Event says so. A role that cannot
 * be made sure of throws (FileRoleUnavailable) after a Warning Event.
 */
export async function prepareFiles(run: Run, td: ToolDefinition): Promise<LaunchFiles> {
  const files = run.deps.files;
  if (!files || td.spec.sharing !== 'perUser') return { environment: [] };
  const { ctx } = run;
  const user = await new Identity(ctx.store.pool).getUser(run.ti.metadata.namespace ?? '');
  if (!user) {
    await warn(
      run,
      'FilesUnavailable',
      `No user "${run.ti.metadata.namespace}": the tool runs without a home folder synced with files`,
    );
    return { environment: [] };
  }
  try {
    const { role, outcome } = await files.roles.ensure(user.uid);
    if (outcome !== 'cached' && outcome !== 'unchanged')
      ctx.log.info({ user: user.name, role: role.roleName, outcome }, 'file role made sure of');
    return {
      role,
      userUid: user.uid,
      environment: filesEnvironment(files.config, role.bucket, role.prefix),
    };
  } catch (err) {
    await warn(run, 'FileRoleUnavailable', `Not launched yet: ${(err as Error).message}; retrying`);
    throw err;
  }
}

async function warn(run: Run, reason: string, message: string): Promise<void> {
  await run.ctx
    .recordEvent({
      involvedObject: {
        kind: 'ToolInstance',
        name: run.ti.metadata.name,
        namespace: run.ti.metadata.namespace,
        uid: run.ti.metadata.uid,
      },
      type: 'Warning',
      reason,
      message,
    })
    .catch(() => {});
}
