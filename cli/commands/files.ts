// berth files ls|cp|rm: your home folder in the installation's bucket, named
// `home:PATH`. Listing and deleting go through the API; copies move their bytes
// straight to and from S3 with presigned URLs (files-transfer.ts).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { type FileItem, isApiError } from '../../crds/index.ts';
import { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { renderTable } from '../printers.ts';
import { action } from '../run.ts';
import {
  checkPath,
  FilesApi,
  isRemote,
  joinRemote,
  REMOTE,
  remotePath,
  splitPath,
} from './files-remote.ts';
import {
  downloadFile,
  humanBytes,
  type Progress,
  progressLine,
  uploadFile,
} from './files-transfer.ts';

async function filesApi(): Promise<FilesApi> {
  return new FilesApi((await Context.load()).client);
}

/** `home:x` or plain `x` for the verbs that only speak of remote paths. */
function remoteArg(arg: string | undefined): string {
  if (arg === undefined) return '';
  return isRemote(arg) ? remotePath(arg) : arg;
}

function modified(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

export function filesTable(items: FileItem[]) {
  return {
    header: ['NAME', 'SIZE', 'MODIFIED'],
    rows: items.map((i) =>
      i.type === 'folder'
        ? [i.name.endsWith('/') ? i.name : `${i.name}/`, '-', modified(i.lastModified) || '-']
        : [i.name, humanBytes(i.size ?? 0), modified(i.lastModified)],
    ),
  };
}

async function ls(path: string, opts: { output?: string; headers: boolean }) {
  if (opts.output && opts.output !== 'json' && opts.output !== 'yaml')
    throw new CliError(`unsupported output format "${opts.output}" (json or yaml)`);
  const api = await filesApi();
  checkPath(path, 'folder');
  let items: FileItem[];
  try {
    items = await api.list(path);
  } catch (err) {
    // `ls NAME` of a file shows that file, as ls does.
    if (!isApiError(err, 'NotFound') || path === '' || path.endsWith('/')) throw err;
    const { parent, name } = splitPath(path);
    const self = await api
      .list(parent)
      .then((all) => all.find((i) => i.type === 'file' && i.name === name))
      .catch(() => undefined);
    if (!self) throw new CliError(`${REMOTE}${path}: no such file or folder`);
    items = [self];
  }
  if (opts.output === 'json' || opts.output === 'yaml') {
    const list = { path, items };
    process.stdout.write(
      opts.output === 'json' ? `${JSON.stringify(list, null, 4)}\n` : stringify(list),
    );
    return;
  }
  if (items.length === 0) {
    process.stderr.write(`No files in ${REMOTE}${path}.\n`);
    return;
  }
  process.stdout.write(renderTable(filesTable(items), { noHeaders: !opts.headers }));
}

interface CpOptions {
  recursive?: boolean;
  clobber: boolean;
}

/** Every regular file and folder under a local folder (symlinks are not followed). */
async function localTree(root: string): Promise<{ files: string[]; folders: string[] }> {
  const files: string[] = [];
  const folders: string[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    const rel = relative(root, full).split(sep).join('/');
    if (e.isFile()) files.push(rel);
    else if (e.isDirectory()) folders.push(rel);
  }
  return { files: files.sort(), folders: folders.sort() };
}

async function localStat(path: string) {
  return stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

async function upload(api: FilesApi, src: string, dst: string, opts: CpOptions, run: Run) {
  const st = await localStat(src);
  if (!st) throw new CliError(`${src}: no such file or folder`);
  if (st.isDirectory() && !opts.recursive)
    throw new CliError(`${src} is a folder: use -r to copy it with what it holds`);
  if (!st.isDirectory() && !st.isFile()) throw new CliError(`${src} is not a file or a folder`);
  const into = dst === '' || dst.endsWith('/') || (await api.isFolder(dst));
  const name = basename(src);
  const target = into ? joinRemote(dst, name) : dst;
  const overwrite = opts.clobber;
  if (st.isFile()) {
    checkPath(target, 'file');
    run.bytes += await uploadFile(api, src, target, { overwrite, ...run });
    run.files++;
    return;
  }
  checkPath(target, 'folder');
  const tree = await localTree(src);
  for (const rel of tree.files) checkPath(joinRemote(target, rel), 'file');
  await api.mkdir(target.endsWith('/') ? target : `${target}/`);
  for (const rel of tree.folders) await api.mkdir(`${joinRemote(target, rel)}/`);
  for (const rel of tree.files) {
    run.bytes += await uploadFile(api, join(src, rel), joinRemote(target, rel), {
      overwrite,
      ...run,
    });
    run.files++;
  }
}

async function download(api: FilesApi, src: string, dst: string, opts: CpOptions, run: Run) {
  const st = await localStat(dst);
  const into = dst.endsWith('/') || dst.endsWith(sep) || st?.isDirectory() === true;
  const name = splitPath(src).name;
  const folder = src === '' || src.endsWith('/') || (opts.recursive && (await api.isFolder(src)));
  if (!folder) {
    checkPath(src, 'file');
    const target = into ? join(dst, name) : dst;
    try {
      run.bytes += await downloadFile(api, src, target, run);
      run.files++;
      return;
    } catch (err) {
      if (!isApiError(err, 'NotFound')) throw err;
      if (await api.isFolder(src))
        throw new CliError(`${REMOTE}${src} is a folder: use -r to copy it with what it holds`);
      throw new CliError(`${REMOTE}${src}: no such file or folder`);
    }
  }
  if (!opts.recursive)
    throw new CliError(`${REMOTE}${src} is a folder: use -r to copy it with what it holds`);
  checkPath(src, 'folder');
  const base = into && name ? join(dst, name) : dst;
  await mkdir(base, { recursive: true });
  const prefix = src === '' || src.endsWith('/') ? src : `${src}/`;
  for (const item of await api.walk(src)) {
    const rel = item.path.slice(prefix.length).replace(/\/$/, '');
    const local = join(base, ...rel.split('/'));
    if (item.type === 'folder') await mkdir(local, { recursive: true });
    else {
      run.bytes += await downloadFile(api, item.path, local, run);
      run.files++;
    }
  }
}

interface Run {
  files: number;
  bytes: number;
  progress: Progress;
  signal: AbortSignal;
}

async function cp(src: string, dst: string, opts: CpOptions) {
  if (isRemote(src) === isRemote(dst))
    throw new CliError(
      `exactly one of SRC and DST must be in your home folder, written ${REMOTE}PATH (e.g. berth files cp data.csv ${REMOTE}reports/)`,
    );
  const api = await filesApi();
  const abort = new AbortController();
  const onInterrupt = () => abort.abort();
  process.once('SIGINT', onInterrupt);
  const run: Run = { files: 0, bytes: 0, progress: progressLine(), signal: abort.signal };
  try {
    if (isRemote(dst)) await upload(api, src, remotePath(dst), opts, run);
    else await download(api, remotePath(src), dst, opts, run);
  } catch (err) {
    if (abort.signal.aborted) throw new CliError('interrupted: the copy was stopped', 130);
    throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  const what = run.files === 1 ? '1 file' : `${run.files} files`;
  process.stdout.write(`copied ${what} (${humanBytes(run.bytes)}) to ${dst}\n`);
}

async function rm(arg: string, opts: { recursive?: boolean }) {
  const path = remoteArg(arg);
  if (path === '') throw new CliError('refusing to delete your whole home folder');
  checkPath(path, 'folder');
  const api = await filesApi();
  const deleted = await api.remove(path, opts.recursive === true);
  const what = deleted === 1 ? '1 object' : `${deleted} objects`;
  process.stdout.write(`deleted ${REMOTE}${path} (${what})\n`);
}

export function registerFiles(program: Command): void {
  const files = program
    .command('files')
    .description(`your home folder's files (written ${REMOTE}PATH), kept in S3`);
  files
    .command('ls')
    .description('list a folder in your home (default: the home itself)')
    .argument('[path]', `a folder or file, e.g. ${REMOTE}reports/`)
    .option('-o, --output <format>', 'json | yaml')
    .option('--no-headers', 'omit the header row')
    .action(
      action(async (path: string | undefined, opts: { output?: string; headers: boolean }) =>
        ls(remoteArg(path), opts),
      ),
    );
  files
    .command('cp')
    .description(
      `copy between this machine and your home: SRC or DST is ${REMOTE}PATH; a DST ending in "/" means into that folder`,
    )
    .argument('<src>', `a local path or ${REMOTE}PATH`)
    .argument('<dst>', `a local path or ${REMOTE}PATH`)
    .option('-r, --recursive', 'copy a folder and everything in it')
    .option('--no-clobber', 'fail rather than replace a file that exists in your home')
    .action(action(cp));
  files
    .command('rm')
    .description('delete a file or (with -r) a folder from your home')
    .argument('<path>', `${REMOTE}PATH`)
    .option('-r, --recursive', 'delete a folder and everything in it')
    .action(action(rm));
}
