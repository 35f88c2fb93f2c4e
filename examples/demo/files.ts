// The demo tool's file endpoints, so a test (or a person with curl) can act as
// "a process in the tool writes or reads a file in the user's home": the home is
// $HOME, which berth points at the task's home volume (ToolDefinition homePath),
// kept in step with the user's files by the s3sync sidecar.
//   PUT    /files/<path>   writes the request body to $HOME/<path> (folders made)
//   GET    /files/<path>   the file's bytes
//   DELETE /files/<path>   removes the file
//   GET    /files?list     {"files": [paths under $HOME]} (s3sync's own state left out)
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

const LIST_LIMIT = 20_000;
/** What the listing leaves out: s3sync's state folder. */
const HIDDEN = new Set(['.s3sync']);

function home(): string {
  return resolve(process.env.HOME || homedir());
}

/** `<path>` of /files/<path> as a file under the home, or undefined when it would leave it. */
function target(urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.slice('/files/'.length));
  } catch {
    return undefined;
  }
  if (
    !rel ||
    rel.startsWith('/') ||
    rel.split('/').some((s) => s === '..' || s === '.' || s === '')
  )
    return undefined;
  const full = resolve(home(), rel);
  return full.startsWith(home() + sep) ? full : undefined;
}

async function list(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (out.length >= LIST_LIMIT) return;
      if (dir === root && HIDDEN.has(e.name)) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(relative(root, full).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Answers /files and /files/...; false when the request is not one of them. */
export async function handleFiles(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<boolean> {
  if (url.pathname === '/files' && req.method === 'GET' && url.searchParams.has('list')) {
    json(res, 200, { home: home(), files: await list(home()) });
    return true;
  }
  if (!url.pathname.startsWith('/files/')) return false;
  const file = target(url.pathname);
  if (!file) {
    json(res, 400, { error: 'the path must name a file inside the home folder' });
    return true;
  }
  try {
    if (req.method === 'PUT') {
      await mkdir(dirname(file), { recursive: true });
      await pipeline(req, createWriteStream(file));
      json(res, 201, { path: relative(home(), file), size: (await stat(file)).size });
    } else if (req.method === 'GET') {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    } else if (req.method === 'DELETE') {
      await rm(file);
      json(res, 200, { deleted: relative(home(), file) });
    } else {
      json(res, 405, { error: 'PUT, GET or DELETE' });
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') json(res, 404, { error: 'no such file' });
    else if (code === 'EISDIR') json(res, 409, { error: 'that is a folder' });
    else json(res, 500, { error: code ?? 'could not do that' });
  }
  return true;
}
