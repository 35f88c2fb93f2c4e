// A raw s3rver for tests that need an S3 endpoint before (or without) ecs-local's
// policy-checking S3 front: no IAM, one fixed key pair (s3rver's S3RVER/S3RVER), so
// it proves S3 behaviour, never a wall between users.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface TestS3 {
  url: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** An SDK client as berth's own are configured against a local endpoint. */
  client(): S3Client;
  close(): Promise<void>;
}

const corsXml = (origins: string[]) => `<CORSConfiguration>
  <CORSRule>
${origins.map((o) => `    <AllowedOrigin>${o}</AllowedOrigin>`).join('\n')}
    <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod><AllowedMethod>DELETE</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
  </CORSRule>
</CORSConfiguration>`;

export async function startS3rver(
  options: { bucket?: string; corsOrigins?: string[] } = {},
): Promise<TestS3> {
  const bucket = options.bucket ?? 'berth-files-test';
  const directory = await mkdtemp(join(tmpdir(), 'berth-s3rver-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    vhostBuckets: false,
    allowMismatchedSignatures: true,
    configureBuckets: [
      { name: bucket, configs: options.corsOrigins ? [corsXml(options.corsOrigins)] : [] },
    ],
  });
  const http = (await server.run()) as unknown as { port: number } | AddressInfo;
  const url = `http://127.0.0.1:${http.port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const region = 'eu-west-2';
  return {
    url,
    bucket,
    credentials,
    region,
    client: () =>
      new S3Client({
        endpoint: url,
        forcePathStyle: true,
        region,
        credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
