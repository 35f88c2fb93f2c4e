// IAM roles and their inline policies, as IAM keeps them: names unique per
// account, ARNs `arn:aws:iam::<account>:role<path><name>`, policy documents
// validated before they are stored. With a state directory they are kept in
// `<stateDir>/iam.json` (written atomically), so roles survive a restart.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_INLINE_POLICY_CHARS, type PolicyDocument, parsePolicyDocument } from './iam-policy.ts';

export class IamError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const noSuchEntity = (message: string) => new IamError('NoSuchEntity', message, 404);
export const validationError = (message: string) => new IamError('ValidationError', message);

export interface RoleTag {
  Key: string;
  Value: string;
}

export interface Role {
  name: string;
  path: string;
  id: string;
  arn: string;
  createdAt: string;
  assumeRolePolicyDocument: string;
  description: string | undefined;
  maxSessionDuration: number;
  permissionsBoundary: string | undefined;
  tags: RoleTag[];
  /** Inline policies: name -> document text, as given. */
  policies: Record<string, string>;
}

export interface NewRole {
  name: string;
  path?: string | undefined;
  assumeRolePolicyDocument: string;
  description?: string | undefined;
  maxSessionDuration?: number | undefined;
  permissionsBoundary?: string | undefined;
  tags?: RoleTag[] | undefined;
}

/** Managed policies ecs-local knows (only as permissions boundaries): ARN -> document. */
export type ManagedPolicies = Map<string, PolicyDocument>;

const NAME_RE = /^[\w+=,.@-]{1,64}$/;
const PATH_RE = /^\/([\x21-\x7e]*\/)?$/;

export class IamRoles {
  readonly #roles = new Map<string, Role>();
  readonly #accountId: string;
  readonly #file: string | undefined;
  readonly #managed: ManagedPolicies;

  constructor(accountId: string, stateDir: string | undefined, managed: ManagedPolicies) {
    this.#accountId = accountId;
    this.#managed = managed;
    this.#file = stateDir ? join(stateDir, 'iam.json') : undefined;
    if (this.#file) this.#load(this.#file);
  }

  #load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const saved = JSON.parse(text) as { roles?: Role[] };
    for (const r of saved.roles ?? []) this.#roles.set(r.name.toLowerCase(), r);
  }

  #save(): void {
    if (!this.#file) return;
    mkdirSync(join(this.#file, '..'), { recursive: true });
    const tmp = `${this.#file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify({ roles: [...this.#roles.values()] }, null, 2), {
      mode: 0o600,
    });
    renameSync(tmp, this.#file);
  }

  create(input: NewRole): Role {
    if (!NAME_RE.test(input.name)) {
      throw validationError(
        `1 validation error detected: Value '${input.name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      );
    }
    const path = input.path ?? '/';
    if (!PATH_RE.test(path) || path.length > 512) {
      throw validationError(
        `The specified value for path is invalid. It must begin and end with / and contain only printable characters.`,
      );
    }
    if (this.#roles.has(input.name.toLowerCase())) {
      throw new IamError(
        'EntityAlreadyExists',
        `Role with name ${input.name} already exists.`,
        409,
      );
    }
    // A trust policy names principals, so it is checked as JSON only.
    try {
      JSON.parse(input.assumeRolePolicyDocument);
    } catch {
      throw new IamError('MalformedPolicyDocument', 'This policy contains invalid Json');
    }
    const max = input.maxSessionDuration ?? 3600;
    if (!Number.isInteger(max) || max < 3600 || max > 43200) {
      throw validationError(
        `1 validation error detected: Value '${max}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`,
      );
    }
    if (input.permissionsBoundary !== undefined && !this.#managed.has(input.permissionsBoundary)) {
      throw noSuchEntity(
        `Scope ARN: ${input.permissionsBoundary} does not exist or is not attachable.`,
      );
    }
    const role: Role = {
      name: input.name,
      path,
      id: `AROA${randomId(17)}`,
      arn: `arn:aws:iam::${this.#accountId}:role${path}${input.name}`,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      assumeRolePolicyDocument: input.assumeRolePolicyDocument,
      description: input.description,
      maxSessionDuration: max,
      permissionsBoundary: input.permissionsBoundary,
      tags: input.tags ?? [],
      policies: {},
    };
    this.#roles.set(role.name.toLowerCase(), role);
    this.#save();
    return role;
  }

  get(name: string): Role {
    const role = this.#roles.get(name.toLowerCase());
    if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return role;
  }

  /** The role an ARN names, if it exists. */
  byArn(arn: string): Role | undefined {
    const name = /^arn:aws[\w-]*:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
    const role = name === undefined ? undefined : this.#roles.get(name.toLowerCase());
    return role?.arn === arn ? role : undefined;
  }

  delete(name: string): void {
    const role = this.get(name);
    if (Object.keys(role.policies).length > 0) {
      throw new IamError(
        'DeleteConflict',
        'Cannot delete entity, must delete policies first.',
        409,
      );
    }
    this.#roles.delete(name.toLowerCase());
    this.#save();
  }

  putPolicy(roleName: string, policyName: string, document: string): void {
    const role = this.get(roleName);
    if (!/^[\w+=,.@-]{1,128}$/.test(policyName)) {
      throw validationError(`The specified value for policyName is invalid.`);
    }
    if (document.length > MAX_INLINE_POLICY_CHARS) {
      throw new IamError(
        'LimitExceeded',
        `Maximum policy size of ${MAX_INLINE_POLICY_CHARS} bytes exceeded for role ${role.name}`,
        409,
      );
    }
    const parsed = parsePolicyDocument(document);
    if (!parsed.ok) throw new IamError('MalformedPolicyDocument', parsed.message);
    role.policies[policyName] = document;
    this.#save();
  }

  getPolicy(roleName: string, policyName: string): string {
    const role = this.get(roleName);
    const doc = role.policies[policyName];
    if (doc === undefined) {
      throw noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
    }
    return doc;
  }

  deletePolicy(roleName: string, policyName: string): void {
    this.getPolicy(roleName, policyName);
    delete this.get(roleName).policies[policyName];
    this.#save();
  }

  /** What a role's credentials are checked against: its inline policies and boundary. */
  policiesOf(role: Role): { identity: PolicyDocument[]; boundary: PolicyDocument | undefined } {
    const identity: PolicyDocument[] = [];
    for (const text of Object.values(role.policies)) {
      const parsed = parsePolicyDocument(text);
      if (parsed.ok) identity.push(parsed.doc);
    }
    const boundary = role.permissionsBoundary
      ? // A boundary that vanished allows nothing (fail closed).
        (this.#managed.get(role.permissionsBoundary) ?? { Statement: [] as never })
      : undefined;
    return { identity, boundary };
  }
}

function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(length)].map((b) => alphabet[b % 32]).join('');
}
