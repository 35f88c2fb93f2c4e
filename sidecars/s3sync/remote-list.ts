// The prefix as S3 lists it: every page, or an error. A listing that failed part
// way is thrown away whole, so a partial listing can never look like deletions.
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { relFromKey } from './paths.ts';
import type { RemoteObject } from './plan.ts';
import { bareEtag } from './s3.ts';

export async function listRemote(
  client: S3Client,
  bucket: string,
  prefix: string,
  onSkip: (key: string, reason: string) => void,
): Promise<Map<string, RemoteObject>> {
  const out = new Map<string, RemoteObject>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      const r = relFromKey(prefix, o.Key);
      if ('skip' in r) {
        onSkip(o.Key, r.skip);
        continue;
      }
      out.set(r.rel, { size: o.Size ?? 0, etag: bareEtag(o.ETag) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated && !token)
      throw new Error('listing truncated without a continuation token');
  } while (token);
  return out;
}
