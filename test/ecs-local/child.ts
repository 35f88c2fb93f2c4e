// Runs `berth ecs-local` as a child process (so a test can SIGKILL it), with the
// test images in a temporary image map and its own state directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type AccessKeyPair, generateAccessKeyPair } from '../../ecs-local/index.ts';
import { waitFor } from '../support/wait.ts';
import { TEST_IMAGES } from './helpers.ts';

const root = join(import.meta.dirname, '..', '..');

export interface EcsLocalChild {
  url: string;
  /** The key pair it was started with (every request must be signed with it). */
  credentials: AccessKeyPair;
  pid: number;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** Writes the test images as an image map file in `dir`; returns its path. */
export function writeTestImageMap(dir: string): string {
  const path = join(dir, 'images.yaml');
  writeFileSync(path, stringify({ images: TEST_IMAGES }));
  return path;
}

export async function startEcsLocalChild(env: {
  stateDir: string;
  imageMap: string;
  octet: number;
  /** More ECS_LOCAL_* settings (e.g. S3's). */
  extra?: Record<string, string>;
}): Promise<EcsLocalChild> {
  const credentials = generateAccessKeyPair();
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(root, 'bin', 'berth.ts'), 'ecs-local'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ECS_LOCAL_PORT: '0',
        ECS_LOCAL_THROTTLING: 'false',
        ECS_LOCAL_STATE_DIR: env.stateDir,
        ECS_LOCAL_IMAGE_MAP: env.imageMap,
        ECS_LOCAL_ADDRESS_OCTET: String(env.octet),
        ECS_LOCAL_ACCESS_KEY_ID: credentials.accessKeyId,
        ECS_LOCAL_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        LOG_LEVEL: 'info',
        ...env.extra,
      },
    },
  );
  let text = '';
  child.stdout!.on('data', (c: Buffer) => {
    text += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    text += c.toString();
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  await waitFor(
    () => {
      if (gone) throw new Error(`ecs-local exited before listening:\n${text}`);
      return /ecs-local listening on (\S+)/.test(text);
    },
    30_000,
    'ecs-local to listen',
  );
  const url = /ecs-local listening on (\S+)/.exec(text)![1]!;
  return { url, credentials, pid: child.pid!, child, output: () => text, exited };
}

/** Pids whose parent is `ppid` (from /proc). */
export function childrenOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
      } catch {
        return false;
      }
    });
}

/** Whether `pid` is a live process: present in /proc and not a zombie. */
export function isLive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The command line of `pid`, arguments joined by spaces. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
