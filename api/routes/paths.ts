// Path parameters: a namespace or name in the URL is validated like the field it
// becomes, so `..`, `%2F`, NUL, odd Unicode or a 300-character name is a 400
// naming the parameter, before anything reaches the store.
import { ApiError, namespaceName, objectName } from '../../crds/index.ts';

/** A hostile value shown safely in a message: quoted, escaped, shortened. */
export function shown(value: string, max = 64): string {
  const cut = value.length > max ? `${value.slice(0, max)}...` : value;
  return JSON.stringify(cut).replace(
    /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function pathNamespace(raw: string | undefined): string {
  const value = raw ?? '';
  const r = namespaceName.safeParse(value);
  if (!r.success) {
    throw new ApiError(
      'BadRequest',
      `namespace ${shown(value)} in the URL is invalid: ${r.error.issues[0]!.message}`,
      {
        causes: [
          {
            field: 'metadata.namespace',
            message: r.error.issues[0]!.message,
            reason: 'FieldValueInvalid',
          },
        ],
      },
    );
  }
  return value;
}

export function pathName(raw: string | undefined): string {
  const value = raw ?? '';
  const r = objectName.safeParse(value);
  if (!r.success) {
    throw new ApiError(
      'BadRequest',
      `name ${shown(value)} in the URL is invalid: ${r.error.issues[0]!.message}`,
      {
        causes: [
          {
            field: 'metadata.name',
            message: r.error.issues[0]!.message,
            reason: 'FieldValueInvalid',
          },
        ],
      },
    );
  }
  return value;
}
