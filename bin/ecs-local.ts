// `berth ecs-local`: runs ecs-local standalone, configured by ECS_LOCAL_* variables
// (see ecs-local/README.md), until SIGINT/SIGTERM; then stops every container process.
// Every request must be signed with its key pair: ECS_LOCAL_ACCESS_KEY_ID and
// ECS_LOCAL_SECRET_ACCESS_KEY, or a fresh pair printed beside its address (on
// stdout as export lines, never on the log) because the operator asked for it.
import { join } from 'node:path';
import { pino } from 'pino';
import {
  ConfigError,
  type EcsLocalOptions,
  generateAccessKeyPair,
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
  const generated = options.credentials ? undefined : generateAccessKeyPair();
  let ecsLocal: Awaited<ReturnType<typeof startEcsLocal>>;
  try {
    ecsLocal = await startEcsLocal({
      // As `berth up` does: the next start kills tasks a crashed ecs-local left running.
      stateDir: join(import.meta.dirname, '..', '.data', 'ecs-local'),
      ...options,
      ...(generated ? { credentials: generated } : {}),
      logger,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`berth ecs-local: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  console.log(`ecs-local listening on ${ecsLocal.url}`);
  if (generated) {
    console.log(
      'Sign requests with this key pair (any AWS client; set ECS_LOCAL_ACCESS_KEY_ID and',
    );
    console.log('ECS_LOCAL_SECRET_ACCESS_KEY to choose it instead):');
    console.log(`export AWS_ACCESS_KEY_ID=${generated.accessKeyId}`);
    console.log(`export AWS_SECRET_ACCESS_KEY=${generated.secretAccessKey}`);
  } else {
    console.log(
      `Sign requests with the key pair in ECS_LOCAL_ACCESS_KEY_ID (${ecsLocal.credentials.accessKeyId}) and ECS_LOCAL_SECRET_ACCESS_KEY.`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await ecsLocal.close();
}
