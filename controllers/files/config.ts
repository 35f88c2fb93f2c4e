// The files settings of the controllers: which bucket holds the users' homes,
// how to reach S3 and IAM (ecs-local's endpoint and key pair locally; AWS and the
// SDK's default chain otherwise), and how the per-user file roles are named.
// Read by the one settings loader (settings/). Files are off while
// BERTH_FILES_BUCKET is unset: tools get no role, no home prefix, no files env.
import { z } from 'zod';
import { ConfigError, loadSettings, setting } from '../../settings/index.ts';

const url = () => z.url({ error: 'must be a URL such as http://127.0.0.1:4566' }).optional();

export const filesConfigSchema = z.object({
  bucket: setting(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be an S3 bucket name: 3 to 63 lowercase letters, digits, "." and "-"',
      )
      .optional(),
    {
      env: 'BERTH_FILES_BUCKET',
      shownDefault: 'none (files are off: tools get no home sync and no file role)',
      description:
        "The S3 bucket holding every user's files, each under `home/<uid>/`. Set, a per-user tool's task gets its user's file role and the files environment.",
    },
  ),
  endpoint: setting(url(), {
    env: 'BERTH_S3_ENDPOINT',
    shownDefault: 'AWS',
    description:
      "S3 endpoint override, e.g. ecs-local's `http://127.0.0.1:4566`; tools get it as AWS_ENDPOINT_URL_S3.",
  }),
  region: setting(z.string().min(1).optional(), {
    env: 'BERTH_S3_REGION',
    shownDefault: '`AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`',
    description: "The bucket's region (and the region IAM calls are signed for).",
  }),
  accessKeyId: setting(z.string().min(1).optional(), {
    env: 'BERTH_S3_ACCESS_KEY_ID',
    shownDefault: "the AWS SDK's default credential chain",
    description:
      "Access key ID for the files' IAM calls (the file roles): ecs-local's key pair (berth up sets it); set together with BERTH_S3_SECRET_ACCESS_KEY.",
  }),
  secretAccessKey: setting(z.string().min(1).optional(), {
    env: 'BERTH_S3_SECRET_ACCESS_KEY',
    secret: true,
    shownDefault: "the AWS SDK's default credential chain",
    description: 'The secret access key of that pair.',
  }),
  iamEndpoint: setting(url(), {
    env: 'BERTH_IAM_ENDPOINT',
    shownDefault: 'AWS',
    description: "IAM endpoint override, e.g. ecs-local's `http://127.0.0.1:4566`.",
  }),
  rolePrefix: setting(
    z
      .string()
      .regex(
        /^[A-Za-z0-9+=,.@_-]{1,32}$/,
        'must be 1 to 32 letters, digits and "+=,.@_-" (an IAM role name is at most 64)',
      )
      .default('berth-files-'),
    {
      env: 'BERTH_FILES_ROLE_PREFIX',
      description:
        "A user's file role is named this followed by their uid without dashes (32 hex digits).",
    },
  ),
  rolePath: setting(
    z
      .string()
      .regex(
        /^\/([A-Za-z0-9+=,.@_-]+\/)*$/,
        'must be an IAM path: "/" or "/name/" (letters, digits, "+=,.@_-")',
      )
      .max(512)
      .default('/berth/'),
    {
      env: 'BERTH_FILES_ROLE_PATH',
      description: 'The IAM path of the file roles.',
    },
  ),
  permissionsBoundary: setting(
    z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/\S+$/, 'must be an IAM policy ARN')
      .optional(),
    {
      env: 'BERTH_FILES_PERMISSIONS_BOUNDARY',
      description:
        "A managed policy ARN set as each file role's permissions boundary (an account that requires one for roles berth creates). Its account also goes into the roles' trust policy as aws:SourceAccount.",
    },
  ),
});

export interface FilesConfig {
  /** Undefined: files are off. */
  bucket?: string;
  region: string;
  /** S3 endpoint override (ecs-local); absent: AWS. */
  endpoint?: string;
  iamEndpoint?: string;
  /** Static credentials (ecs-local's key pair); absent: the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  rolePrefix: string;
  rolePath: string;
  permissionsBoundary?: string;
}

/** Reads the files settings; throws ConfigError naming each bad variable. */
export function loadFilesConfig(
  env: Record<string, string | undefined> = process.env,
): FilesConfig {
  const { accessKeyId, secretAccessKey, region, ...e } = loadSettings(filesConfigSchema, env, {
    component: 'files',
  });
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('files settings', [
      'BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY: set both or neither (neither: the AWS SDK finds credentials itself)',
    ]);
  }
  const resolved = region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return {
    ...e,
    region: resolved,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}
