// The caller's home: keys are made here and only here, from the caller's own uid
// (the users row, never a request) and a checked path. Admins get their own home
// like everyone else: being an admin grants nothing in a user's files.
import { ApiError, fileKey, folderKey, homePrefix } from '../../crds/index.ts';
import type { Identity, Principal } from '../../store/index.ts';

export interface Home {
  /** `home/<uid>/` */
  prefix: string;
  /** The object key of a checked file path. */
  key(path: string): string;
  /** The listing prefix of a checked folder path (ends with "/"). */
  folder(path: string): string;
  /** The path inside the home of a key under its prefix. */
  pathOf(key: string): string;
}

export async function homeOf(identity: Identity, p: Principal): Promise<Home> {
  const uid = p.uid ?? (await identity.getUser(p.name))?.uid;
  if (!uid) throw new ApiError('Forbidden', `user "${p.name}" has no home folder`);
  const prefix = homePrefix(uid);
  return {
    prefix,
    key: (path) => fileKey(uid, path),
    folder: (path) => folderKey(uid, path),
    pathOf(key) {
      if (!key.startsWith(prefix)) throw new Error('a key outside the home reached pathOf');
      return key.slice(prefix.length);
    },
  };
}
