// crds/: the resource kinds. Depends on nothing else of berth's.
export * from './meta.ts';
export * from './registry.ts';
export * from './status.ts';
