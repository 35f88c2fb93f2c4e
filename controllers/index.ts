// controllers/: the reconcilers, the work queue and the ECS driver. Other
// folders (bin/) import only this file. The reconcilers arrive with a later issue.
export * from './ecs/index.ts';
