// Shared by the tests of container dependencies, health checks, stop order,
// restarts and volumes: tasks of several recorder containers (fixtures/recorder.mjs),
// each writing down under one folder what happened to it and what it saw.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ContainerDefinition,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type Volume,
} from '@aws-sdk/client-ecs';
import type { StartOptions } from '../../ecs-local/index.ts';
import { start, TEST_IMAGES } from './helpers.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const NODE = `$${'{node}'}`;

export const RECORDER = 'test/recorder:1';

/** ecs-local with the recorder image (and its `probe` program), checks every 100 ms. */
export function startWithRecorder(options: StartOptions = {}) {
  return start({
    imageMap: {
      ...TEST_IMAGES,
      [RECORDER]: {
        command: [NODE, join(fixtures, 'recorder.mjs')],
        bin: { probe: [NODE, join(fixtures, 'probe.mjs')] },
      },
    },
    healthCheckIntervalMs: 100,
    ...options,
  });
}

const dirs: string[] = [];

/** A fresh folder the containers record into (removeRecordDirs() once ecs-local is closed). */
export function recordDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-local-record-'));
  dirs.push(dir);
  return dir;
}

/** After ecs-local's close (no container writes any more): the record folders go. */
export function removeRecordDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Recorder extends Omit<ContainerDefinition, 'name' | 'image' | 'environment'> {
  name: string;
  env?: Record<string, string>;
}

/** Registers a Fargate task definition of recorder containers recording into `dir`. */
export async function registerRecorders(
  ecs: ECSClient,
  family: string,
  dir: string,
  containers: Recorder[],
  volumes: Volume[] = [],
): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      volumes,
      containerDefinitions: containers.map(({ env, ...c }) => ({
        essential: true,
        ...c,
        image: RECORDER,
        environment: Object.entries({ RECORD_DIR: dir, NAME: c.name, ...env }).map(
          ([name, value]) => ({ name, value }),
        ),
      })),
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

/** A CMD-SHELL check that passes once `file` exists under the record folder. */
export function fileCheck(file: string, extra: { retries?: number; startPeriod?: number } = {}) {
  return {
    command: ['CMD-SHELL', `test -f "$RECORD_DIR/${file}"`],
    interval: 5,
    timeout: 5,
    retries: extra.retries ?? 1,
    ...(extra.startPeriod === undefined ? {} : { startPeriod: extra.startPeriod }),
  };
}

export interface RecordedEvent {
  event: string;
  name: string;
  at: number;
}

export function events(dir: string): RecordedEvent[] {
  const file = join(dir, 'events.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [event, name, at] = line.split(' ');
      return { event: event!, name: name!, at: Number(at) };
    });
}

/** The time of the first `event` of `name`, or undefined. */
export function when(dir: string, event: string, name: string): number | undefined {
  return events(dir).find((e) => e.event === event && e.name === name)?.at;
}

export interface Saw {
  ready: string[];
  home?: string;
  data?: string;
  host: string;
  pid: number;
  read: string | null;
}

/** What the container recorded at its (last) start, or undefined if it never started. */
export function saw(dir: string, name: string): Saw | undefined {
  const file = join(dir, `${name}.saw.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Saw) : undefined;
}
