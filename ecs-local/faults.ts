// Injected faults, set by configuration or at run time through the admin endpoint
// (POST /_ecs-local/faults), so callers can be tested against a misbehaving ECS.
import { z } from 'zod';

const rate = z.number().min(0).max(1);

export const faultsSchema = z.strictObject({
  /** Extra latency per call: `default` for every operation, or per operation name. */
  latencyMs: z.record(z.string(), z.number().int().min(0).max(60_000)).default({}),
  /** Fraction of ECS calls answered with ThrottlingException (on top of real throttling). */
  throttlingRate: rate.default(0),
  /** Fraction of ECS calls answered with 500 ServerException. */
  serverErrorRate: rate.default(0),
  /** Extra time spent in PROVISIONING. */
  provisioningDelayMs: z.number().int().min(0).default(0),
  /** Fraction of requested tasks that come back in RunTask's failures[] for lack of capacity. */
  capacityFailureRate: rate.default(0),
  /** The next N requested tasks come back as capacity failures (deterministic for tests). */
  capacityFailures: z.number().int().min(0).default(0),
  /** S3 unreachable: every S3 request's connection is dropped without an answer. */
  s3Outage: z.boolean().default(false),
  /**
   * Every call of an operation answered with this error, as ECS would send it
   * (e.g. `{"RunTask": {"code": "AccessDeniedException", "message": "..."}}`), so
   * callers can be tested against errors ecs-local never makes by itself.
   */
  errors: z
    .record(
      z.string(),
      z.strictObject({
        code: z
          .string()
          .regex(/^[A-Z][A-Za-z]+$/, 'an ECS error code such as AccessDeniedException'),
        message: z.string().max(1024).default(''),
        status: z.number().int().min(400).max(599).default(400),
      }),
    )
    .default({}),
});

export type Faults = z.infer<typeof faultsSchema>;
export const faultsPatchSchema = faultsSchema.partial();

export class FaultState {
  current: Faults;
  private readonly initial: Faults;
  constructor(initial: Faults) {
    this.initial = structuredClone(initial);
    this.current = structuredClone(initial);
  }

  patch(patch: z.infer<typeof faultsPatchSchema>): Faults {
    this.current = faultsSchema.parse({ ...this.current, ...patch });
    return this.current;
  }

  reset(): Faults {
    this.current = structuredClone(this.initial);
    return this.current;
  }

  latencyFor(operation: string): number {
    return this.current.latencyMs[operation] ?? this.current.latencyMs.default ?? 0;
  }

  /** Which injected error (if any) this call gets. */
  injectedError(): 'throttling' | 'server' | undefined {
    if (this.current.throttlingRate > 0 && Math.random() < this.current.throttlingRate)
      return 'throttling';
    if (this.current.serverErrorRate > 0 && Math.random() < this.current.serverErrorRate)
      return 'server';
    return undefined;
  }

  /** The error set for `operation`, if any. */
  errorFor(operation: string): { code: string; message: string; status: number } | undefined {
    return this.current.errors[operation];
  }

  /** Whether the next task to place fails for lack of capacity. */
  takeCapacityFailure(): boolean {
    if (this.current.capacityFailures > 0) {
      this.current.capacityFailures -= 1;
      return true;
    }
    return this.current.capacityFailureRate > 0 && Math.random() < this.current.capacityFailureRate;
  }
}
