// The IAM documents of a user's file role, from one template each: the inline
// policy that allows exactly the user's home prefix in the files bucket, and the
// trust policy that lets ECS tasks (only) assume the role. Pure functions: the
// tests check them statement by statement.

/** The one inline policy of every file role. */
export const FILES_POLICY_NAME = 'berth-files';

/** The tag naming the user a file role belongs to. */
export const USER_UID_TAG = 'berth.io/user-uid';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string;
  Condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** What a task needs on its objects; multipart uploads are authorized by s3:PutObject. */
export const OBJECT_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
] as const;

// A home prefix as crds homePrefix() makes it. Checked again here because the
// prefix lands in a StringLike condition and an ARN, where "*", "?" or a policy
// variable "${...}" would widen what the role may reach.
const HOME_PREFIX = /^home\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The inline policy: list the bucket only under the prefix, and read, write and
 * delete objects (including multipart uploads) only under it. Nothing else.
 */
export function filesPolicy({
  bucket,
  prefix,
}: {
  bucket: string;
  prefix: string;
}): PolicyDocument {
  if (!BUCKET.test(bucket)) throw new Error(`not an S3 bucket name: ${JSON.stringify(bucket)}`);
  if (!HOME_PREFIX.test(prefix)) throw new Error(`not a home prefix: ${JSON.stringify(prefix)}`);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListOwnHome',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { 's3:prefix': [prefix, `${prefix}*`] } },
      },
      {
        Sid: 'ObjectsInOwnHome',
        Effect: 'Allow',
        Action: [...OBJECT_ACTIONS],
        Resource: `arn:aws:s3:::${bucket}/${prefix}*`,
      },
    ],
  };
}

/**
 * Who may assume a file role: ECS tasks, and when the account is known only on
 * behalf of this account (the confused-deputy guard AWS recommends).
 */
export function trustPolicy(account?: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'ecs-tasks.amazonaws.com' },
        Action: 'sts:AssumeRole',
        ...(account ? { Condition: { StringEquals: { 'aws:SourceAccount': account } } } : {}),
      },
    ],
  };
}

/** `<prefix><uid without dashes>`: 44 characters with the default prefix (IAM allows 64). */
export function fileRoleName(rolePrefix: string, userUid: string): string {
  return `${rolePrefix}${userUid.replaceAll('-', '')}`;
}

/** The account of an ARN (`arn:aws:iam::123456789012:...`), if it names one. */
export function accountOf(arn: string | undefined): string | undefined {
  return arn?.split(':')[4]?.match(/^\d{12}$/)?.[0];
}

/**
 * IAM answers a policy document URL-encoded (AWS) or plain (some emulators);
 * either way, the document as an object, or undefined when it is not JSON.
 */
export function parsePolicyDocument(text: string | undefined): unknown {
  if (!text) return undefined;
  for (const candidate of [text, safeDecode(text)]) {
    if (candidate === undefined) continue;
    try {
      return JSON.parse(candidate);
    } catch {}
  }
  return undefined;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
