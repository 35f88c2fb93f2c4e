// What `make run` (berth up) uses when nothing says otherwise, shared with `berth
// doctor`, which checks that setup.

/** ecs-local's port when berth up starts it (ECS_LOCAL_PORT). */
export const ECS_LOCAL_DEFAULT_PORT = 4566;

/** ecs-local's network (see ecs-local/README.md). */
export const ECS_LOCAL_DEFAULTS = {
  BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
  BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
  BERTH_PROXY_SECURITY_GROUP: 'sg-0a1b2c3d4e5f60002',
};

/** ecs-local's address beside `make run`. */
export function ecsLocalUrl(env: Record<string, string | undefined>): string {
  return `http://127.0.0.1:${env.ECS_LOCAL_PORT || ECS_LOCAL_DEFAULT_PORT}`;
}
