// The image map: which local command stands in for a container image. An image
// missing from the map fails the task as an image that cannot be pulled would.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ContainerRecord } from './task-record.ts';

const imageEntrySchema = z.strictObject({
  /**
   * The image's ENTRYPOINT: an executable, or an executable and its fixed leading
   * arguments. `${node}` is this Node binary, `${dir}` the map file's folder.
   */
  command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
  /** Default arguments (the image's CMD); a container definition's `command` replaces them. */
  args: z.array(z.string()).default([]),
  /** The image's own environment (ENV lines). */
  env: z.record(z.string(), z.string()).default({}),
  /** Working directory; relative to the map file's folder. */
  cwd: z.string().optional(),
  /**
   * Programs the image carries, by name: what a health check's `["CMD", name, ...]`
   * runs (a command line, placeholders as in `command`); others are looked up on PATH.
   */
  bin: z.record(z.string(), z.array(z.string()).min(1)).default({}),
});

export const imageMapSchema = z.record(z.string(), imageEntrySchema);
const imageMapFileSchema = z.strictObject({ images: imageMapSchema.nullish() });

export type ImageEntry = z.infer<typeof imageEntrySchema>;
export type ImageMap = z.infer<typeof imageMapSchema>;

export interface ResolvedImage {
  /** The ENTRYPOINT: executable first. */
  command: string[];
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  /** Program name -> the command line that runs it (placeholders expanded). */
  bin: Record<string, string[]>;
}

// The placeholders are literal text in the YAML, not template strings.
const NODE_TOKEN = '$' + '{node}';
const DIR_TOKEN = '$' + '{dir}';

function expand(value: string, dir: string): string {
  return value.replaceAll(NODE_TOKEN, process.execPath).replaceAll(DIR_TOKEN, dir);
}

function resolveEntry(entry: ImageEntry, dir: string): ResolvedImage {
  return {
    command: (typeof entry.command === 'string' ? [entry.command] : entry.command).map((a) =>
      expand(a, dir),
    ),
    args: entry.args.map((a) => expand(a, dir)),
    env: Object.fromEntries(Object.entries(entry.env).map(([k, v]) => [k, expand(v, dir)])),
    cwd: entry.cwd === undefined ? undefined : resolve(dir, expand(entry.cwd, dir)),
    bin: Object.fromEntries(
      Object.entries(entry.bin).map(([name, line]) => [name, line.map((a) => expand(a, dir))]),
    ),
  };
}

/** Reads and validates an image map file; errors name the file and the field. */
export function loadImageMapFile(path: string): Map<string, ResolvedImage> {
  const dir = dirname(resolve(path));
  const parsed = imageMapFileSchema.safeParse(parse(readFileSync(path, 'utf8')) ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`ecs-local: invalid image map ${path}: ${detail}`);
  }
  const out = new Map<string, ResolvedImage>();
  for (const [image, entry] of Object.entries(parsed.data.images ?? {})) {
    out.set(image, resolveEntry(entry, dir));
  }
  return out;
}

export class ImageResolver {
  private readonly entries: Map<string, ResolvedImage>;
  constructor(filePath: string | undefined, inline: ImageMap, baseDir = process.cwd()) {
    this.entries = filePath ? loadImageMapFile(filePath) : new Map();
    for (const [image, entry] of Object.entries(inline)) {
      this.entries.set(image, resolveEntry(entry, baseDir));
    }
  }

  /** Looks an image up as given, then with Docker's implicit `:latest` tag. */
  resolve(image: string): ResolvedImage | undefined {
    const hit = this.entries.get(image);
    if (hit) return hit;
    const lastSegment = image.slice(image.lastIndexOf('/') + 1);
    if (!lastSegment.includes(':') && !image.includes('@'))
      return this.entries.get(`${image}:latest`);
    if (image.endsWith(':latest')) return this.entries.get(image.slice(0, -':latest'.length));
    return undefined;
  }
}

/** The reference Docker would report failing to resolve, for CannotPullContainerError. */
export function canonicalReference(image: string): string {
  let ref = image;
  const lastSegment = ref.slice(ref.lastIndexOf('/') + 1);
  if (!lastSegment.includes(':') && !ref.includes('@')) ref = `${ref}:latest`;
  const first = ref.split('/')[0]!;
  const hasRegistry =
    ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) ref = ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
  return ref;
}

/**
 * Docker's rule: the container definition's entryPoint replaces the image's
 * ENTRYPOINT (our `command`), its command replaces the image's CMD (our `args`);
 * a containerOverride's command replaces both commands.
 */
export function commandLine(
  imageCommand: string[],
  imageArgs: string[],
  c: ContainerRecord,
): { command: string; args: string[] } {
  const entry = c.def.entryPoint?.length ? c.def.entryPoint : imageCommand;
  const cmd = c.override?.command ?? c.def.command ?? (c.def.entryPoint?.length ? [] : imageArgs);
  return { command: entry[0]!, args: [...entry.slice(1), ...cmd] };
}
