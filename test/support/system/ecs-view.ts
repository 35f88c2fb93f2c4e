// What ECS (ecs-local) says runs for this installation: every task whose desired
// status is RUNNING, with the instance uid it is tagged with. The ground truth the
// checks compare the store with.
import { Registry } from 'prom-client';
import { createEcsDriver, type EcsDriver, loadEcsConfig } from '../../../controllers/index.ts';
import type { AccessKeyPair } from '../../../ecs-local/index.ts';

export interface LiveTask {
  taskArn: string;
  instanceUid: string | undefined;
  lastStatus: string | undefined;
}

export class EcsView {
  private readonly driver: EcsDriver;

  constructor(endpoint: string, key: AccessKeyPair, installationId: string) {
    this.driver = createEcsDriver({
      config: loadEcsConfig({
        BERTH_ECS_ENDPOINT: endpoint,
        BERTH_ECS_ACCESS_KEY_ID: key.accessKeyId,
        BERTH_ECS_SECRET_ACCESS_KEY: key.secretAccessKey,
        BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
        BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
        BERTH_INSTALLATION_ID: installationId,
        BERTH_ECS_MAX_ATTEMPTS: '2',
      }),
      registry: new Registry(),
    });
  }

  async liveTasks(): Promise<LiveTask[]> {
    const arns = await this.driver.listTasks({ startedBy: this.driver.startedBy });
    if (arns.length === 0) return [];
    const { tasks } = await this.driver.describeTasks(arns);
    return tasks
      .filter((t) => t.desiredStatus === 'RUNNING')
      .map((t) => ({
        taskArn: t.taskArn!,
        instanceUid: t.tags?.find((tag) => tag.key === 'berth:instance-uid')?.value,
        lastStatus: t.lastStatus,
      }));
  }

  close(): void {
    this.driver.close();
  }
}

/** Live tasks by instance uid. */
export function tasksByInstance(tasks: LiveTask[]): Map<string, LiveTask[]> {
  const by = new Map<string, LiveTask[]>();
  for (const t of tasks) {
    const key = t.instanceUid ?? '(untagged)';
    by.set(key, [...(by.get(key) ?? []), t]);
  }
  return by;
}
