// Reads manifests for apply, delete and diff: a file, a directory (its *.yaml,
// *.yml and *.json files, sorted; recursive with -R) or `-` for stdin. Files may
// hold several YAML documents, or JSON, or a JSON/YAML `List`. Every document
// remembers its file and index so that errors can point at it.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CliError } from './errors.ts';

export interface Manifest {
  /** The file it came from (`stdin` for `-`). */
  file: string;
  /** 1-based position of the document in its file. */
  index: number;
  /** 1-based position inside a `List` document, when it came from one. */
  item?: number;
  object: Record<string, unknown>;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** "examples/bad.yaml (document 2)", "- (document 1, item 3)". */
export function describeSource(m: Pick<Manifest, 'file' | 'index' | 'item'>): string {
  return `${m.file} (document ${m.index}${m.item ? `, item ${m.item}` : ''})`;
}

async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every file a -f argument names, sorted within each directory. */
async function expandPath(path: string, recursive: boolean): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT'
        ? `the path "${path}" does not exist`
        : `cannot read "${path}": ${(err as Error).message}`,
    );
  }
  if (!info.isDirectory()) return [path];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  const files: string[] = [];
  for (const e of entries) {
    const full = join(path, e.name);
    if (e.isDirectory()) {
      if (recursive) files.push(...(await expandPath(full, true)));
    } else if (EXTENSIONS.has(extname(e.name).toLowerCase())) files.push(full);
  }
  return files;
}

/** Parses one file's text into its documents; throws a CliError naming the file and document. */
export function parseManifests(text: string, file: string): Manifest[] {
  const out: Manifest[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  // parseAllDocuments returns an EmptyStream for empty input, or an array of Documents.
  if (!Array.isArray(docs)) return out;
  docs.forEach((doc, i) => {
    const index = i + 1;
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      throw new CliError(
        `${describeSource({ file, index })}: not valid YAML or JSON: ${first.message.split('\n')[0]}`,
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document, e.g. a trailing `---`
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new CliError(
        `${describeSource({ file, index })}: expected an object with apiVersion, kind and metadata`,
      );
    }
    const obj = value as Record<string, unknown>;
    if (
      obj.kind === 'List' ||
      (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items))
    ) {
      const items = Array.isArray(obj.items) ? obj.items : [];
      items.forEach((item, j) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) {
          throw new CliError(`${describeSource({ file, index, item: j + 1 })}: expected an object`);
        }
        out.push({ file, index, item: j + 1, object: item as Record<string, unknown> });
      });
      return;
    }
    out.push({ file, index, object: obj });
  });
  return out;
}

/** Reads every -f argument (files, directories, `-`) into manifests, in order. */
export async function readManifests(
  paths: string[],
  opts: { recursive?: boolean; stdin?: NodeJS.ReadableStream } = {},
): Promise<Manifest[]> {
  if (paths.length === 0) throw new CliError('must specify -f FILE, -f DIR or -f - (stdin)');
  const out: Manifest[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push(...parseManifests(await readStdin(opts.stdin), 'stdin'));
      continue;
    }
    const files = await expandPath(p, opts.recursive ?? false);
    if (files.length === 0) throw new CliError(`no .yaml, .yml or .json files in "${p}"`);
    for (const f of files) {
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read "${f}": ${(err as Error).message}`);
      }
      out.push(...parseManifests(text, f));
    }
  }
  return out;
}

/**
 * Documents that are not manifests at all (no apiVersion and no kind, like
 * an image map next to the ToolDefinitions) are skipped with a warning
 * on stderr rather than failing a whole `-f DIR`.
 */
export function berthDocuments(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => {
    if (m.object.apiVersion !== undefined || m.object.kind !== undefined) return true;
    process.stderr.write(
      `warning: skipping ${describeSource(m)}: not a berth object (no apiVersion or kind)\n`,
    );
    return false;
  });
}
