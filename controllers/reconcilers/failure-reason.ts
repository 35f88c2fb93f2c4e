// Why a task stopped, in words a person understands, from what ECS reports:
// the task's stopCode and stoppedReason and each container's exitCode and
// reason. The CamelCase `reason` goes into status.stopReason and conditions;
// the message into status.message and the Event.
import type { Container, Task } from '@aws-sdk/client-ecs';
import { TOOL_CONTAINER } from './task-definition.ts';

export interface StopExplanation {
  /** CamelCase, e.g. `ImagePullFailed`, `ToolExited`, `SpotInterruption`. */
  reason: string;
  message: string;
  /** Failed when something went wrong; Stopped when the task ended in an ordinary way. */
  phase: 'Failed' | 'Stopped';
}

/** `beforeReady`: the task stopped while berth was waiting for it to become ready. */
export function explainStop(task: Task, beforeReady: boolean): StopExplanation {
  const stoppedReason = task.stoppedReason ?? '';
  const containers = task.containers ?? [];
  const tool = containers.find((c) => c.name === TOOL_CONTAINER) ?? containers[0];
  switch (task.stopCode) {
    case 'TaskFailedToStart':
      return explainFailedToStart(task, containers, stoppedReason);
    case 'SpotInterruption':
      return {
        reason: 'SpotInterruption',
        message:
          'Fargate Spot took the capacity back (a Spot interruption); launch the tool again to get a new task',
        phase: 'Stopped',
      };
    case 'EssentialContainerExited':
      return explainExit(containers, tool, beforeReady);
    case 'UserInitiated':
      return {
        reason: 'TaskStopped',
        message: `The task was stopped outside berth${stoppedReason ? `: ${stoppedReason}` : ''}`,
        phase: 'Stopped',
      };
    case 'TerminationNotice':
    case 'ServiceSchedulerInitiated':
      return {
        reason: 'TaskStopped',
        message: `ECS stopped the task${stoppedReason ? `: ${stoppedReason}` : ''}`,
        phase: 'Stopped',
      };
    default:
      if (tool?.exitCode !== undefined) return explainExit(containers, tool, beforeReady);
      return {
        reason: 'TaskStopped',
        message: `The task stopped${stoppedReason ? `: ${stoppedReason}` : ''}`,
        phase: beforeReady ? 'Failed' : 'Stopped',
      };
  }
}

function explainFailedToStart(
  task: Task,
  containers: Container[],
  stoppedReason: string,
): StopExplanation {
  const failing = containers.find((c) => c.reason) ?? containers[0];
  const detail = failing?.reason || stoppedReason;
  const pull = /CannotPullContainerError:?\s*(.*)$/s.exec(detail);
  if (pull) {
    return {
      reason: 'ImagePullFailed',
      message: `The image "${failing?.image ?? 'unknown'}" could not be pulled: ${pull[1] || detail}`,
      phase: 'Failed',
    };
  }
  const start = /CannotStartContainerError:?\s*(.*)$/s.exec(detail);
  if (start) {
    return {
      reason: 'ContainerStartFailed',
      message: `The container "${failing?.name ?? 'tool'}" could not be started: ${start[1] || detail}`,
      phase: 'Failed',
    };
  }
  return {
    reason: 'TaskFailedToStart',
    message: `The task failed to start: ${detail || task.stopCode}`,
    phase: 'Failed',
  };
}

function explainExit(
  containers: Container[],
  tool: Container | undefined,
  beforeReady: boolean,
): StopExplanation {
  // The container that ended the task: the tool if it exited, else an essential sidecar that did.
  const exited = tool?.exitCode !== undefined ? tool : containers.find((c) => c.exitCode != null);
  const who =
    !exited || exited.name === TOOL_CONTAINER ? 'The tool' : `The sidecar "${exited.name}"`;
  const code = exited?.exitCode;
  const when = beforeReady ? ' before it was ready' : '';
  if (exited?.reason && /OutOfMemory/i.test(exited.reason)) {
    return {
      reason: 'OutOfMemory',
      message: `${who} ran out of memory${when}; pick a larger size`,
      phase: 'Failed',
    };
  }
  if (code === 0) {
    return {
      reason: 'ToolExited',
      message: `${who} exited${when} (exit code 0)`,
      phase: beforeReady ? 'Failed' : 'Stopped',
    };
  }
  if (code === 137) {
    return {
      reason: 'ToolKilled',
      message: `${who} was killed (exit code 137: SIGKILL, often running out of memory)${when}`,
      phase: 'Failed',
    };
  }
  return {
    reason: 'ToolExited',
    message:
      code === undefined || code === null
        ? `${who} stopped${when}`
        : `${who} exited with code ${code}${when}`,
    phase: 'Failed',
  };
}
