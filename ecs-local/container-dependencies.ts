// Container dependencies (`dependsOn`), as ECS orders a task's containers: what
// RegisterTaskDefinition refuses, when a waiting container may start, when its
// dependency can no longer hold, and the reverse order containers stop in.
import { z } from 'zod';
import { clientError } from './protocol.ts';

export const dependencySchema = z.object({
  containerName: z.string().min(1),
  condition: z.enum(['START', 'COMPLETE', 'SUCCESS', 'HEALTHY']),
});
export type ContainerDependency = z.infer<typeof dependencySchema>;

interface DefinitionLike {
  name: string;
  essential?: boolean | undefined;
  healthCheck?: unknown;
  dependsOn?: ContainerDependency[] | undefined;
}

/** RegisterTaskDefinition's rules, refused in ECS's words. */
export function checkDependencies(containers: DefinitionLike[]): void {
  const byName = new Map(containers.map((c) => [c.name, c]));
  for (const c of containers) {
    for (const d of c.dependsOn ?? []) {
      const target = byName.get(d.containerName);
      if (!target) {
        // ECS's own wording, stray "+" included.
        throw clientError(
          `Cannot depend on container + '${d.containerName}' because it does not exist`,
        );
      }
      if ((d.condition === 'SUCCESS' || d.condition === 'COMPLETE') && target.essential !== false) {
        throw clientError(
          'A dependency container with SUCCESS or COMPLETE condition cannot be an essential container',
        );
      }
      if (d.condition === 'HEALTHY' && !target.healthCheck) {
        throw clientError(
          'A dependency container with HEALTHY condition must have health check configured',
        );
      }
    }
  }
  const cycle = findCycle(containers);
  if (cycle) throw clientError(`Container dependsOn contains a cycle: ${cycle.join(' -> ')}`);
}

function findCycle(containers: DefinitionLike[]): string[] | undefined {
  const byName = new Map(containers.map((c) => [c.name, c]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    for (const d of byName.get(name)?.dependsOn ?? []) {
      const found = visit(d.containerName);
      if (found) return found;
    }
    path.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const c of containers) {
    const found = visit(c.name);
    if (found) return found;
  }
  return undefined;
}

/** What the start sequence knows of a container. */
export interface StartState {
  name: string;
  dependsOn: ContainerDependency[];
  /** waiting: not started yet; started: its process ran (it may have exited since); failed: it never will. */
  startup: 'waiting' | 'starting' | 'started' | 'failed';
  running: boolean;
  exitCode: number | undefined;
  health: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
}

export type Verdict =
  | { kind: 'met' }
  | { kind: 'wait' }
  | { kind: 'unsatisfiable'; reason: string };

/**
 * Whether `target` may start now: every dependency holds (met), one may still
 * (wait), or one never can (unsatisfiable, with the reason ECS's agent gives).
 */
export function dependencyVerdict(target: StartState, all: StartState[]): Verdict {
  let waiting = false;
  for (const d of target.dependsOn) {
    const dep = all.find((c) => c.name === d.containerName)!;
    const why = (as: string) => ({
      kind: 'unsatisfiable' as const,
      reason: `CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [${dep.name}] for target [${target.name}] as ${as}.`,
    });
    if (dep.startup === 'failed') return why('dependency did not start');
    const exited = dep.startup === 'started' && !dep.running && dep.exitCode !== undefined;
    switch (d.condition) {
      case 'START':
        // Started is enough, even if it has exited since (ECS agent, START edge case).
        if (dep.startup !== 'started') waiting = true;
        break;
      case 'COMPLETE':
        if (!exited) waiting = true;
        break;
      case 'SUCCESS':
        if (exited && dep.exitCode !== 0) return why('dependency did not exit successfully');
        if (!exited) waiting = true;
        break;
      case 'HEALTHY':
        if (dep.health === 'HEALTHY') break;
        if (dep.health === 'UNHEALTHY') return why('dependency is unhealthy');
        if (exited) return why('dependency exited before it was healthy');
        waiting = true;
        break;
    }
  }
  return waiting ? { kind: 'wait' } : { kind: 'met' };
}

/** The containers that depend on `name` (they stop before it does). */
export function dependentsOf(
  name: string,
  all: { name: string; dependsOn: ContainerDependency[] }[],
): string[] {
  return all.filter((c) => c.dependsOn.some((d) => d.containerName === name)).map((c) => c.name);
}
