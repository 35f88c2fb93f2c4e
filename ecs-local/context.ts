// What every ECS operation handler works with.
import type { Arns } from './arns.ts';
import type { Clusters } from './clusters.ts';
import type { EcsLocalConfig } from './config.ts';
import type { FaultState } from './faults.ts';
import type { IamRoles } from './iam-roles.ts';
import type { TaskDefinitions } from './task-definitions.ts';
import type { TaskEngine } from './tasks.ts';

export interface ClientTokenEntry {
  fingerprint: string;
  taskIds: string[];
}

export interface EcsContext {
  config: EcsLocalConfig;
  arns: Arns;
  clusters: Clusters;
  taskDefinitions: TaskDefinitions;
  engine: TaskEngine;
  faults: FaultState;
  /** IAM roles (a task role must name one). */
  iam: IamRoles;
  /** RunTask clientToken -> what it created, keyed by `<cluster>\n<token>`. */
  clientTokens: Map<string, ClientTokenEntry>;
}

export type Handler = (ctx: EcsContext, body: unknown) => unknown;
