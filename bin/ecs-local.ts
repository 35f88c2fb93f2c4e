// `berth ecs-local`: runs ecs-local standalone, configured by ECS_LOCAL_* variables
// (see ecs-local/README.md), until SIGINT/SIGTERM; then stops every container process.
import { join } from 'node:path';
import { pino } from 'pino';
import {
  ConfigError,
  type EcsLocalOptions,
  optionsFromEnv,
  startEcsLocal,
} from '../ecs-local/index.ts';

export async function runEcsLocal(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  let options: EcsLocalOptions;
  try {
    options = optionsFromEnv(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`berth ecs-local: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  const ecsLocal = await startEcsLocal({
    // As `berth up` does: the next start kills tasks a crashed ecs-local left running.
    stateDir: join(import.meta.dirname, '..', '.data', 'ecs-local'),
    ...options,
    logger,
  });
  console.log(`ecs-local listening on ${ecsLocal.url}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await ecsLocal.close();
}
