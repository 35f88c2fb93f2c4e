// The files environment of a task's containers (tool and sidecars): where the
// user's files are and, against an S3 endpoint other than AWS's (ecs-local),
// where S3 is and that checksums are sent only when required, which the SDK
// reads by itself. Nothing secret: credentials come from the task role.
import type { FilesConfig } from './config.ts';

export function filesEnvironment(
  config: Pick<FilesConfig, 'endpoint'>,
  bucket: string,
  prefix: string,
): { name: string; value: string }[] {
  return [
    { name: 'BERTH_FILES_BUCKET', value: bucket },
    { name: 'BERTH_FILES_PREFIX', value: prefix },
    ...(config.endpoint
      ? [
          { name: 'AWS_ENDPOINT_URL_S3', value: config.endpoint },
          { name: 'AWS_REQUEST_CHECKSUM_CALCULATION', value: 'WHEN_REQUIRED' },
          { name: 'AWS_RESPONSE_CHECKSUM_VALIDATION', value: 'WHEN_REQUIRED' },
        ]
      : []),
  ];
}
