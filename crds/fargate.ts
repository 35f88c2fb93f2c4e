// The task sizes Fargate accepts. A task's CPU (in CPU units, 1024 = 1 vCPU) fixes
// which memory sizes (MiB) are allowed; RunTask refuses anything else, so berth
// refuses it when the ToolDefinition is written instead of when a user launches.
// Source: the Amazon ECS developer guide, "Task CPU and memory" for Fargate.
import { z } from 'zod';

const FARGATE_CPU_UNITS = [256, 512, 1024, 2048, 4096, 8192, 16384] as const;
export type FargateCpu = (typeof FARGATE_CPU_UNITS)[number];

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let m = from; m <= to; m += step) out.push(m);
  return out;
}

/** Memory sizes (MiB) Fargate accepts for each CPU value. */
export const FARGATE_MEMORY_MIB: Record<FargateCpu, readonly number[]> = {
  256: [512, 1024, 2048],
  512: steps(1024, 4096, 1024),
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
  8192: steps(16384, 61440, 4096),
  16384: steps(32768, 122880, 8192),
};

const RANGES: Record<FargateCpu, string> = {
  256: '512, 1024 or 2048',
  512: '1024 to 4096 in steps of 1024',
  1024: '2048 to 8192 in steps of 1024',
  2048: '4096 to 16384 in steps of 1024',
  4096: '8192 to 30720 in steps of 1024',
  8192: '16384 to 61440 in steps of 4096',
  16384: '32768 to 122880 in steps of 8192',
};

function isFargateCpu(cpu: number): cpu is FargateCpu {
  return (FARGATE_CPU_UNITS as readonly number[]).includes(cpu);
}

export function isFargateCombination(cpu: number, memory: number): boolean {
  return isFargateCpu(cpu) && FARGATE_MEMORY_MIB[cpu].includes(memory);
}

/** `memory 3000 MiB is not allowed with cpu 1024; Fargate accepts 2048 to 8192 in steps of 1024`. */
function describeAllowedMemory(cpu: FargateCpu): string {
  return RANGES[cpu];
}

/** One named size of a tool: CPU units and memory in MiB, a combination Fargate accepts. */
export const fargateSize = z
  .strictObject({
    cpu: z.literal(FARGATE_CPU_UNITS, {
      error: `must be one of the Fargate CPU values ${FARGATE_CPU_UNITS.join(', ')} (1024 = 1 vCPU)`,
    }),
    memory: z.number().int('must be a whole number of MiB').positive(),
  })
  .superRefine((size, ctx) => {
    if (!isFargateCombination(size.cpu, size.memory)) {
      ctx.addIssue({
        code: 'custom',
        path: ['memory'],
        message: `${size.memory} MiB is not allowed with cpu ${size.cpu}; Fargate accepts ${describeAllowedMemory(size.cpu)} MiB`,
      });
    }
  });
export type FargateSize = z.infer<typeof fargateSize>;
