// A user's file role, made sure of before a launch: the IAM role
// `<prefix><uid>` (trusting ECS tasks) with exactly one inline policy,
// `berth-files`, generated from policy.ts's template for the user's home prefix.
// GetRole, CreateRole when IAM says NoSuchEntity; GetRolePolicy, PutRolePolicy
// when it is missing or differs, and any other inline policy deleted (drift is
// repaired: nobody widens a user's role by hand for longer than the cache). IAM is the truth: "this
// user's role is ready" is remembered per uid only as a cache, for a while, and
// forgotten at once when a launch meets AccessDenied or NoSuchEntity for it.
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { homePrefix } from '../../crds/index.ts';
import { deepEqual } from '../../store/index.ts';
import type { FilesConfig } from './config.ts';
import {
  accountOf,
  FILES_POLICY_NAME,
  fileRoleName,
  filesPolicy,
  parsePolicyDocument,
  trustPolicy,
  USER_UID_TAG,
} from './policy.ts';

/** How long a role seen ready is trusted without asking IAM again. */
export const ROLE_CACHE_MS = 5 * 60_000;

export interface FileRole {
  roleName: string;
  roleArn: string;
  /** `home/<uid>/` */
  prefix: string;
  bucket: string;
}

/** What ensure() did, for logs and tests. */
export type EnsureOutcome = 'cached' | 'unchanged' | 'created' | 'policyRepaired';

/** Thrown when the role could not be made sure of; the launch fails this attempt and retries. */
export class FileRoleUnavailable extends Error {
  override name = 'FileRoleUnavailable';
}

export class FileRoles {
  readonly #iam: IAMClient;
  readonly #config: FilesConfig & { bucket: string };
  readonly #now: () => number;
  readonly #ready = new Map<string, { role: FileRole; until: number }>();
  readonly #inFlight = new Map<string, Promise<{ role: FileRole; outcome: EnsureOutcome }>>();

  constructor(iam: IAMClient, config: FilesConfig & { bucket: string }, now = Date.now) {
    this.#iam = iam;
    this.#config = config;
    this.#now = now;
  }

  get bucket(): string {
    return this.#config.bucket;
  }

  /** The user's role, made to exist with the current policy (from the cache while it is fresh). */
  async ensure(userUid: string): Promise<{ role: FileRole; outcome: EnsureOutcome }> {
    const hit = this.#ready.get(userUid);
    if (hit && hit.until > this.#now()) return { role: hit.role, outcome: 'cached' };
    // Two launches of one user at once make one set of IAM calls.
    const running = this.#inFlight.get(userUid);
    if (running) return await running;
    const p = this.#observe(userUid).finally(() => this.#inFlight.delete(userUid));
    this.#inFlight.set(userUid, p);
    return await p;
  }

  /** Forgets that the user's role was ready: the next ensure() asks IAM. */
  forget(userUid: string): void {
    this.#ready.delete(userUid);
  }

  async #observe(userUid: string): Promise<{ role: FileRole; outcome: EnsureOutcome }> {
    const prefix = homePrefix(userUid);
    const roleName = fileRoleName(this.#config.rolePrefix, userUid);
    const desired = filesPolicy({ bucket: this.#config.bucket, prefix });
    let outcome: EnsureOutcome = 'unchanged';
    try {
      let roleArn = await this.#getRoleArn(roleName);
      if (!roleArn) {
        roleArn = await this.#createRole(roleName, userUid);
        outcome = 'created';
      }
      const current = await this.#getPolicy(roleName);
      if (!deepEqual(current, desired)) {
        await this.#iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: FILES_POLICY_NAME,
            PolicyDocument: JSON.stringify(desired),
          }),
        );
        if (outcome === 'unchanged') outcome = 'policyRepaired';
      }
      if (await this.#deleteOtherPolicies(roleName)) {
        if (outcome === 'unchanged') outcome = 'policyRepaired';
      }
      const role = { roleName, roleArn, prefix, bucket: this.#config.bucket };
      this.#ready.set(userUid, { role, until: this.#now() + ROLE_CACHE_MS });
      return { role, outcome };
    } catch (err) {
      this.#ready.delete(userUid);
      const e = err as { name?: string; message?: string };
      throw new FileRoleUnavailable(
        `Could not prepare the file role ${roleName} (IAM answered ${e.name ?? 'an error'}: ${e.message ?? String(err)})`,
        { cause: err },
      );
    }
  }

  async #getRoleArn(roleName: string): Promise<string | undefined> {
    try {
      const { Role } = await this.#iam.send(new GetRoleCommand({ RoleName: roleName }));
      return Role?.Arn;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchEntityException') return undefined;
      throw err;
    }
  }

  async #createRole(roleName: string, userUid: string): Promise<string> {
    const boundary = this.#config.permissionsBoundary;
    try {
      const { Role } = await this.#iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          Path: this.#config.rolePath,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy(accountOf(boundary))),
          Description: "berth: a tool's access to its user's home folder in the files bucket",
          Tags: [{ Key: USER_UID_TAG, Value: userUid }],
          ...(boundary ? { PermissionsBoundary: boundary } : {}),
        }),
      );
      if (!Role?.Arn) throw new Error(`CreateRole answered no ARN for ${roleName}`);
      return Role.Arn;
    } catch (err) {
      // Another replica made it between our GetRole and CreateRole.
      if ((err as { name?: string }).name !== 'EntityAlreadyExistsException') throw err;
      const arn = await this.#getRoleArn(roleName);
      if (!arn) throw err;
      return arn;
    }
  }

  /** Deletes inline policies other than berth-files; true when there were any. */
  async #deleteOtherPolicies(roleName: string): Promise<boolean> {
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#iam.send(
        new ListRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) }),
      );
      names.push(...(page.PolicyNames ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    const others = names.filter((n) => n !== FILES_POLICY_NAME);
    for (const name of others) {
      await this.#iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    }
    return others.length > 0;
  }

  async #getPolicy(roleName: string): Promise<unknown> {
    try {
      const { PolicyDocument } = await this.#iam.send(
        new GetRolePolicyCommand({ RoleName: roleName, PolicyName: FILES_POLICY_NAME }),
      );
      return parsePolicyDocument(PolicyDocument);
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchEntityException') return undefined;
      throw err;
    }
  }
}

/**
 * Whether a RunTask error may mean the task role is gone or unusable (deleted
 * behind berth's back, not yet visible): the cached "ready" is dropped so the
 * next attempt observes IAM again.
 */
export function mayBeRoleProblem(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  if (e?.name === 'AccessDeniedException' || e?.name === 'NoSuchEntityException') return true;
  return e?.name === 'ClientException' && /role|iam|passrole/i.test(e.message ?? '');
}
