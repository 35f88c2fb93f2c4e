// The SDK retries a throttled attempt without telling the caller; this
// middleware sits inside the retry loop (deserialize step, outside the
// deserializer) and counts each such attempt, so "berth never causes
// throttling" is observable (berth_ecs_throttled_total).
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';

const THROTTLED = new Set(['ThrottlingException', 'RequestLimitExceeded', 'Throttling']);

export function countThrottledAttempts(
  clients: { ecs: ECSClient; ec2: EC2Client },
  throttled: { inc(labels: { operation: string }): void },
): void {
  const middleware =
    <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      try {
        return await next(args);
      } catch (err) {
        if (THROTTLED.has((err as { name?: string })?.name ?? '')) {
          throttled.inc({ operation: context.commandName ?? 'unknown' });
        }
        throw err;
      }
    };
  const options = {
    step: 'deserialize',
    name: 'berthCountThrottledAttempts',
    priority: 'high',
  } as const;
  // Two calls: the clients' stacks have different (incompatible) type parameters.
  clients.ecs.middlewareStack.add(middleware, options);
  clients.ec2.middlewareStack.add(middleware, options);
}
