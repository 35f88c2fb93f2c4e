// The API's files endpoints as `berth files` uses them, and the `home:PATH`
// notation: a remote path is checked with crds' path rules before any request,
// so a bad one fails naming the path instead of reaching the server.
import {
  type FileItem,
  type FileList,
  filePath,
  folderPath,
  isApiError,
} from '../../crds/index.ts';
import { API_PREFIX, type ApiClient } from '../client.ts';
import { CliError } from '../errors.ts';

export const FILES = `${API_PREFIX}/files`;
export const REMOTE = 'home:';

export type UploadPlan =
  | { kind: 'single'; url: string; headers?: Record<string, string>; expiresAt: string }
  | { kind: 'multipart'; uploadId: string; partSize: number; partCount: number };

export function isRemote(arg: string): boolean {
  return arg.startsWith(REMOTE);
}

/** `home:reports/q1.csv` -> `reports/q1.csv`; `home:` and `home:/` -> `` (the home itself). */
export function remotePath(arg: string): string {
  const p = arg.slice(REMOTE.length);
  return p === '/' ? '' : p;
}

/** Throws a CliError naming the path when it breaks the rules of crds/files.ts. */
export function checkPath(path: string, as: 'file' | 'folder'): string {
  const r = (as === 'file' ? filePath : folderPath).safeParse(path);
  if (!r.success)
    throw new CliError(`invalid path "${REMOTE}${path}": ${r.error.issues[0]?.message}`);
  return path;
}

/** The parent folder of a path ("" for the home) and its last name. */
export function splitPath(path: string): { parent: string; name: string } {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf('/');
  return i < 0
    ? { parent: '', name: trimmed }
    : { parent: trimmed.slice(0, i + 1), name: trimmed.slice(i + 1) };
}

export function joinRemote(folder: string, name: string): string {
  if (folder === '') return name;
  return folder.endsWith('/') ? folder + name : `${folder}/${name}`;
}

export class FilesApi {
  readonly client: ApiClient;

  constructor(client: ApiClient) {
    this.client = client;
  }

  async post<T>(sub: string, body: unknown): Promise<T> {
    return (await this.client.send<T>('POST', `${FILES}${sub}`, { body })).body;
  }

  /** Every entry of one folder, page by page. */
  async list(folder: string): Promise<FileItem[]> {
    const items: FileItem[] = [];
    let cont: string | undefined;
    do {
      const page = await this.client.get<FileList>(FILES, {
        path: folder,
        limit: 1000,
        continue: cont,
      });
      items.push(...page.items);
      cont = page.continue || undefined;
    } while (cont);
    return items;
  }

  /** Every file under a folder, recursively, with paths relative to the home. */
  async walk(folder: string, out: FileItem[] = []): Promise<FileItem[]> {
    for (const item of await this.list(folder)) {
      if (item.type === 'folder') {
        out.push(item);
        await this.walk(item.path, out);
      } else out.push(item);
    }
    return out;
  }

  /** Whether a path names a folder that holds something (or was made on purpose). */
  async isFolder(path: string): Promise<boolean> {
    if (path === '') return true;
    const { parent, name } = splitPath(path);
    try {
      const items = await this.list(parent);
      return items.some((i) => i.type === 'folder' && i.name.replace(/\/$/, '') === name);
    } catch (err) {
      if (isApiError(err, 'NotFound')) return false;
      throw err;
    }
  }

  async mkdir(path: string): Promise<void> {
    await this.post('/folders', { path });
  }

  async remove(path: string, recursive: boolean): Promise<number> {
    const { body } = await this.client.send<{ deleted: number }>('DELETE', FILES, {
      query: { path, recursive: recursive ? 'true' : undefined },
    });
    return body.deleted;
  }
}
