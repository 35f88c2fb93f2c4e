// What a files request may say, checked with zod before S3 sees anything: paths
// inside the caller's home (crds filePath/folderPath: no "..", no leading "/",
// no control characters, NFC, fits a key), sizes, upload ids, part numbers.
// Anything else is a 400 that names the field and says what was expected.
import { z } from 'zod';
import {
  ApiError,
  filePath as anyFilePath,
  folderPath as anyFolderPath,
  fieldPath,
} from '../../crds/index.ts';
import { inSidecarFolder, SIDECAR_FOLDER } from './marker.ts';

/** S3's largest object: 5 TiB. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;
/** Part numbers S3 accepts. */
export const MAX_PARTS = 10_000;
/** Part URLs one call may ask for. */
export const MAX_PART_URLS = 100;

// `.s3sync` holds the s3sync sidecar's change marker: not a user's to read or write.
const notSidecars = [
  (p: string) => !inSidecarFolder(p),
  { message: `must not be in "${SIDECAR_FOLDER}" (the s3sync sidecar's own folder)` },
] as const;
const filePath = anyFilePath.refine(...notSidecars);
const folderPath = anyFolderPath.refine(...notSidecars);

const once = z.string({ error: 'must be given once, as a string' });
const bool = once.regex(/^(true|false)$/, 'must be true or false').transform((s) => s === 'true');

// Upload ids are S3's (opaque, URL-safe); the API checks they were issued for the key.
const uploadId = z
  .string({ error: 'must be the uploadId the upload call returned' })
  .min(1, 'must be the uploadId the upload call returned')
  .max(1024)
  .regex(/^[A-Za-z0-9._~+=-]+$/, 'must be the uploadId the upload call returned');
const partNumber = z
  .number({ error: `must be an integer from 1 to ${MAX_PARTS}` })
  .int(`must be an integer from 1 to ${MAX_PARTS}`)
  .min(1, `must be an integer from 1 to ${MAX_PARTS}`)
  .max(MAX_PARTS, `must be an integer from 1 to ${MAX_PARTS}`);
const etag = z
  .string()
  .min(1)
  .max(256)
  .regex(/^"?[\x21\x23-\x7e]+"?$/, 'must be the ETag S3 answered for the part');

export const listQuery = z.strictObject({
  path: folderPath.optional(),
  limit: once
    .regex(/^[0-9]{1,4}$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, { message: 'must be an integer from 1 to 1000' })
    .optional(),
  continue: once.max(4096).optional(),
  pretty: bool.optional(),
});

export const deleteQuery = z.strictObject({
  path: folderPath.refine((p) => p !== '' && p !== '/', {
    message: 'must name a file or folder inside your home (not the home itself)',
  }),
  recursive: bool.optional(),
  pretty: bool.optional(),
});

export const downloadBody = z.strictObject({ path: filePath });

export const uploadBody = z.strictObject({
  path: filePath,
  size: z
    .number({ error: 'must be the file size in bytes' })
    .int('must be a whole number of bytes')
    .min(0, 'must be at least 0')
    .max(
      MAX_OBJECT_BYTES,
      `must be at most ${MAX_OBJECT_BYTES} bytes (5 TiB, S3's largest object)`,
    ),
  overwrite: z.boolean().optional(),
});

export const partsBody = z.strictObject({
  path: filePath,
  uploadId,
  partNumbers: z
    .array(partNumber)
    .min(1, 'must list at least one part number')
    .max(MAX_PART_URLS, `must list at most ${MAX_PART_URLS} part numbers per call`),
});

export const completeBody = z.strictObject({
  path: filePath,
  uploadId: uploadId.optional(),
  parts: z
    .array(z.strictObject({ partNumber, etag }))
    .min(1, 'must list the uploaded parts')
    .max(MAX_PARTS)
    .optional(),
});

export const abortBody = z.strictObject({ path: filePath, uploadId });

export const folderBody = z.strictObject({
  path: folderPath.refine((p) => p !== '' && p !== '/', { message: 'must name a new folder' }),
});

export const moveBody = z.strictObject({
  from: folderPath.refine((p) => p !== '' && p !== '/', {
    message: 'must name a file or folder inside your home (not the home itself)',
  }),
  to: folderPath.refine((p) => p !== '' && p !== '/', {
    message: 'must name a path inside your home (not the home itself)',
  }),
  overwrite: z.boolean().optional(),
});

/** A 400 naming each bad field (`path`, `from`, `to`, `partNumbers[3]`...) and what was expected. */
export function parseFilesInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const causes = result.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({
          field: fieldPath([...i.path, k]),
          message: 'unknown field',
          reason: 'FieldValueNotSupported',
        }))
      : [{ field: fieldPath(i.path), message: i.message, reason: 'FieldValueInvalid' }],
  );
  const summary = causes.map((c) => `${c.field || '(body)'}: ${c.message}`).join('; ');
  throw new ApiError('BadRequest', `${what}: ${summary}`, { causes });
}

/** A folder path without its trailing "/" ("" for the home). */
export function bareFolder(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}
