// crds/: the resource kinds. Depends on nothing else of berth's.
export * from './client-address.ts';
export * from './duration.ts';
export * from './event.ts';
export * from './fargate.ts';
export * from './hostname.ts';
export * from './kinds.ts';
export * from './launch-rules.ts';
export * from './meta.ts';
export * from './quota.ts';
export * from './registry.ts';
export * from './reserved-names.ts';
export * from './status.ts';
export * from './tooldefinition.ts';
export * from './toolinstance.ts';
