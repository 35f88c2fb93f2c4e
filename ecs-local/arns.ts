// Real ECS ARN formats, and parsing of the "name or ARN" inputs ECS accepts.
import { randomBytes } from 'node:crypto';

export class Arns {
  readonly region: string;
  readonly accountId: string;
  constructor(region: string, accountId: string) {
    this.region = region;
    this.accountId = accountId;
  }

  private prefix(): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}`;
  }

  cluster(name: string): string {
    return `${this.prefix()}:cluster/${name}`;
  }

  task(cluster: string, id: string): string {
    return `${this.prefix()}:task/${cluster}/${id}`;
  }

  taskDefinition(family: string, revision: number): string {
    return `${this.prefix()}:task-definition/${family}:${revision}`;
  }

  container(cluster: string, taskId: string, containerId: string): string {
    return `${this.prefix()}:container/${cluster}/${taskId}/${containerId}`;
  }

  attachmentId(): string {
    return crypto.randomUUID();
  }
}

/** ECS task ids: 32 lowercase hex characters. */
export function newTaskId(): string {
  return randomBytes(16).toString('hex');
}

/** "name" or "arn:...:cluster/name" -> name (undefined -> "default", as ECS). */
export function clusterName(input: string | undefined): string {
  if (!input) return 'default';
  const m = /^arn:aws[\w-]*:ecs:[^:]+:\d{12}:cluster\/(.+)$/.exec(input);
  return m ? m[1]! : input;
}

/** "id", "arn:...:task/cluster/id" or old-style "arn:...:task/id" -> id. */
export function taskIdFrom(input: string): string {
  const m = /^arn:aws[\w-]*:ecs:[^:]+:\d{12}:task\/(?:[^/]+\/)?([^/]+)$/.exec(input);
  return m ? m[1]! : input;
}

export type ResourceRef =
  | { kind: 'cluster'; name: string }
  | { kind: 'task'; cluster: string; id: string }
  | { kind: 'task-definition'; family: string; revision: number };

export function parseResourceArn(arn: string): ResourceRef | undefined {
  const m = /^arn:aws[\w-]*:ecs:[^:]+:\d{12}:([a-z-]+)\/(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, kind, rest] = m as unknown as [string, string, string];
  if (kind === 'cluster') return { kind, name: rest };
  if (kind === 'task') {
    const parts = rest.split('/');
    if (parts.length !== 2) return undefined;
    return { kind, cluster: parts[0]!, id: parts[1]! };
  }
  if (kind === 'task-definition') {
    const td = /^([A-Za-z0-9_-]+):(\d+)$/.exec(rest);
    return td ? { kind, family: td[1]!, revision: Number(td[2]) } : undefined;
  }
  return undefined;
}
