// A finished task's usage row written straight to the store, for the tests that
// check what `berth usage`, the API and the Usage page make of known rows.
import { type Pool, recordTaskStart, recordTaskStop } from '../../store/index.ts';

/** One task of `cpu` units and `mib` MiB that ran from `from` to `to` (ISO times). */
export async function finishedTask(
  pool: Pool,
  row: { id: string; ns: string; tool: string; cpu: number; mib: number; from: string; to: string },
): Promise<void> {
  const taskArn = `arn:aws:ecs:eu-west-2:000000000000:task/berth/${row.id}`;
  await recordTaskStart(pool, {
    taskArn,
    namespace: row.ns,
    instanceName: row.tool,
    instanceUid: '0d4c2b7a-1e9f-4a3b-8c6d-2f5e7a9b1c3d',
    tool: row.tool,
    size: 'default',
    cpuUnits: row.cpu,
    memoryMib: row.mib,
    startedAt: new Date(row.from),
    exact: true,
  });
  await recordTaskStop(pool, taskArn, new Date(row.to));
}
