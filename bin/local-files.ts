// Users' files under `make run` (berth up): ecs-local serves S3 (s3rver's data in
// <BERTH_DATA_DIR>/s3, so files outlive a restart) and IAM (roles in its state
// folder's iam.json), with one bucket whose CORS admits the web UI's origins, so
// the Files page uploads and downloads straight to it. The controllers and the
// API get the files settings pointing there, signed with ecs-local's key pair.
import { join } from 'node:path';
import { loadApiConfig, loadSignInConfig, publicOrigin } from '../api/index.ts';
import type { EcsLocalOptions } from '../ecs-local/index.ts';

/** The bucket `make run` keeps every user's files in. */
export const LOCAL_FILES_BUCKET = 'berth-files';

/** Where s3rver keeps its data under `make run`. */
export function localS3Dir(dataDir: string): string {
  return join(dataDir, 's3');
}

/**
 * The origins the web UI is served from: berth's own host through the proxy
 * (where `make run` sends people) and the API's own address. A sign-in setting
 * that does not load leaves the proxy's out (the API start then says why).
 */
export function uiOrigins(
  env: NodeJS.ProcessEnv,
  signIn: Parameters<typeof loadSignInConfig>[0],
): string[] {
  const origins = new Set<string>();
  try {
    origins.add(publicOrigin(loadSignInConfig(signIn, env)));
  } catch {}
  try {
    const api = loadApiConfig({}, env);
    if (api.port !== 0) {
      const host = api.host === '0.0.0.0' || api.host === '::' ? '127.0.0.1' : api.host;
      origins.add(`http://${host.includes(':') ? `[${host}]` : host}:${api.port}`);
      if (host === '127.0.0.1') origins.add(`http://localhost:${api.port}`);
    }
  } catch {}
  return [...origins];
}

/** ecs-local's S3 option for berth up: one bucket, data under the data folder. */
export function localS3Options(
  dataDir: string,
  bucket: string,
  corsOrigins: string[],
): NonNullable<EcsLocalOptions['s3']> {
  return { directory: localS3Dir(dataDir), buckets: [{ name: bucket, corsOrigins }] };
}

/**
 * The files settings of the controllers and the API against ecs-local: its URL
 * for S3 (and IAM, for the controllers), its region and key pair.
 */
export function localFilesEnv(o: {
  bucket: string;
  url: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): { api: Record<string, string>; controllers: Record<string, string> } {
  const api = {
    BERTH_FILES_BUCKET: o.bucket,
    BERTH_S3_ENDPOINT: o.url,
    BERTH_S3_REGION: o.region,
    BERTH_S3_ACCESS_KEY_ID: o.credentials.accessKeyId,
    BERTH_S3_SECRET_ACCESS_KEY: o.credentials.secretAccessKey,
  };
  return { api, controllers: { ...api, BERTH_IAM_ENDPOINT: o.url } };
}
