// Which request bodies each verb accepts, by media type. Kubernetes tells patch
// flavours apart by Content-Type; berth supports JSON merge patch and apply.
import { ApiError } from '../crds/index.ts';

const MERGE_PATCH = 'application/merge-patch+json';
const APPLY_PATCH_YAML = 'application/apply-patch+yaml';
const APPLY_PATCH_JSON = 'application/apply-patch+json';

export type BodyFormat = 'json' | 'yaml';
export type PatchKind = 'merge' | 'apply';

export interface MediaType {
  /** `type/subtype`, lowercase, without parameters. */
  essence: string;
  charset?: string;
}

/** Parses a Content-Type header; undefined when absent or empty. */
function parseMediaType(header: string | undefined): MediaType | undefined {
  if (!header?.trim()) return undefined;
  const [first, ...params] = header.split(';');
  const essence = first!.trim().toLowerCase();
  let charset: string | undefined;
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k?.trim().toLowerCase() === 'charset' && v)
      charset = v.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { essence, ...(charset ? { charset } : {}) };
}

function unsupported(got: string | undefined, accepted: string[], hint?: string): ApiError {
  const what = got
    ? `content type "${got}" is not supported`
    : 'the request has a body but no Content-Type';
  return new ApiError(
    'UnsupportedMediaType',
    `${what} here; use ${accepted.join(' or ')}${hint ? ` (${hint})` : ''}`,
  );
}

function checkCharset(m: MediaType): void {
  if (m.charset && m.charset !== 'utf-8' && m.charset !== 'utf8') {
    throw new ApiError(
      'UnsupportedMediaType',
      `charset "${m.charset}" is not supported; send UTF-8`,
    );
  }
}

/** Bodies of POST, PUT and DELETE: JSON or YAML. */
export function objectBodyFormat(header: string | undefined): BodyFormat {
  const m = parseMediaType(header);
  const accepted = ['application/json', 'application/yaml'];
  if (!m) throw unsupported(undefined, accepted);
  checkCharset(m);
  if (m.essence === 'application/json') return 'json';
  if (
    m.essence === 'application/yaml' ||
    m.essence === 'application/x-yaml' ||
    m.essence === 'text/yaml'
  ) {
    return 'yaml';
  }
  throw unsupported(m.essence, accepted);
}

/** PATCH bodies: the media type decides what the patch means. */
export function patchFormat(header: string | undefined): { kind: PatchKind; format: BodyFormat } {
  const m = parseMediaType(header);
  const accepted = [MERGE_PATCH, APPLY_PATCH_YAML, APPLY_PATCH_JSON];
  if (!m) throw unsupported(undefined, accepted);
  checkCharset(m);
  switch (m.essence) {
    case MERGE_PATCH:
      return { kind: 'merge', format: 'json' };
    case APPLY_PATCH_YAML:
      // YAML is a superset of JSON, so a JSON manifest parses too.
      return { kind: 'apply', format: 'yaml' };
    case APPLY_PATCH_JSON:
      return { kind: 'apply', format: 'json' };
    case 'application/json-patch+json':
      throw unsupported(
        m.essence,
        accepted,
        'RFC 6902 JSON patch is not supported; send a merge patch',
      );
    case 'application/strategic-merge-patch+json':
      throw unsupported(
        m.essence,
        accepted,
        'strategic merge patch is not supported; send a merge patch',
      );
    default:
      throw unsupported(m.essence, accepted);
  }
}
