// IAM's Query API (form-encoded POST, Version 2010-05-08, XML answers) for the
// role operations berth uses: CreateRole, GetRole, DeleteRole, PutRolePolicy,
// GetRolePolicy, DeleteRolePolicy, ListRolePolicies. Shaped as IAM answers, so
// the unmodified @aws-sdk/client-iam reads them.
import { randomUUID } from 'node:crypto';
import { XMLBuilder } from 'fast-xml-parser';
import { IamError, type IamRoles, type Role, type RoleTag, validationError } from './iam-roles.ts';

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

export interface IamAnswer {
  status: number;
  xml: string;
}

function required(form: URLSearchParams, name: string): string {
  const v = form.get(name);
  if (v === null || v === '') {
    throw validationError(
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function tags(form: URLSearchParams): RoleTag[] {
  const out: RoleTag[] = [];
  for (let i = 1; form.has(`Tags.member.${i}.Key`); i++) {
    out.push({
      Key: form.get(`Tags.member.${i}.Key`)!,
      Value: form.get(`Tags.member.${i}.Value`) ?? '',
    });
  }
  return out;
}

function roleXml(role: Role): Record<string, unknown> {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.id,
    Arn: role.arn,
    CreateDate: role.createdAt,
    AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
    ...(role.description !== undefined ? { Description: role.description } : {}),
    MaxSessionDuration: role.maxSessionDuration,
    ...(role.permissionsBoundary
      ? {
          PermissionsBoundary: {
            PermissionsBoundaryType: 'Policy',
            PermissionsBoundaryArn: role.permissionsBoundary,
          },
        }
      : {}),
    ...(role.tags.length > 0 ? { Tags: { member: role.tags } } : {}),
  };
}

function answer(action: string, result: Record<string, unknown> | undefined): string {
  const body: Record<string, unknown> = {
    '@_xmlns': XMLNS,
    ...(result ? { [`${action}Result`]: result } : {}),
    ResponseMetadata: { RequestId: randomUUID() },
  };
  return builder.build({ [`${action}Response`]: body }) as string;
}

export function iamErrorXml(err: IamError): string {
  return builder.build({
    ErrorResponse: {
      '@_xmlns': XMLNS,
      Error: {
        Type: err.status >= 500 ? 'Receiver' : 'Sender',
        Code: err.code,
        Message: err.message,
      },
      RequestId: randomUUID(),
    },
  }) as string;
}

/** Answers one IAM Query request (the form already parsed); errors in IAM's XML shape. */
export function handleIam(roles: IamRoles, form: URLSearchParams): IamAnswer {
  const action = form.get('Action') ?? '';
  try {
    if (form.get('Version') !== '2010-05-08') {
      throw new IamError('InvalidParameterValue', 'Version must be 2010-05-08.');
    }
    return { status: 200, xml: answer(action, run(roles, action, form)) };
  } catch (err) {
    const e =
      err instanceof IamError ? err : new IamError('ServiceFailure', 'Internal error.', 500);
    return { status: e.status, xml: iamErrorXml(e) };
  }
}

function run(
  roles: IamRoles,
  action: string,
  form: URLSearchParams,
): Record<string, unknown> | undefined {
  switch (action) {
    case 'CreateRole': {
      const max = form.get('MaxSessionDuration');
      const role = roles.create({
        name: required(form, 'RoleName'),
        path: form.get('Path') ?? undefined,
        assumeRolePolicyDocument: required(form, 'AssumeRolePolicyDocument'),
        description: form.get('Description') ?? undefined,
        maxSessionDuration: max === null ? undefined : Number(max),
        permissionsBoundary: form.get('PermissionsBoundary') ?? undefined,
        tags: tags(form),
      });
      return { Role: roleXml(role) };
    }
    case 'GetRole':
      return { Role: roleXml(roles.get(required(form, 'RoleName'))) };
    case 'DeleteRole':
      roles.delete(required(form, 'RoleName'));
      return undefined;
    case 'PutRolePolicy':
      roles.putPolicy(
        required(form, 'RoleName'),
        required(form, 'PolicyName'),
        required(form, 'PolicyDocument'),
      );
      return undefined;
    case 'GetRolePolicy': {
      const roleName = required(form, 'RoleName');
      const policyName = required(form, 'PolicyName');
      const doc = roles.getPolicy(roleName, policyName);
      return {
        RoleName: roles.get(roleName).name,
        PolicyName: policyName,
        PolicyDocument: encodeURIComponent(doc),
      };
    }
    case 'DeleteRolePolicy':
      roles.deletePolicy(required(form, 'RoleName'), required(form, 'PolicyName'));
      return undefined;
    case 'ListRolePolicies': {
      const role = roles.get(required(form, 'RoleName'));
      const names = Object.keys(role.policies).sort();
      return { PolicyNames: names.length ? { member: names } : '', IsTruncated: false };
    }
    default:
      throw new IamError(
        'InvalidAction',
        `Could not find operation ${action} for version 2010-05-08`,
      );
  }
}
