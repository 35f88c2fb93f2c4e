// The resources most tests start from: a minimal ToolDefinition and a ToolInstance
// of it, as a user would write them (the store or the API fills in the rest).
import { API_VERSION } from '../../crds/index.ts';

/** A ToolDefinition named `name` with one size; `spec` fields override or add. */
export function toolDefinition(name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: API_VERSION,
    kind: 'ToolDefinition',
    metadata: { name },
    spec: {
      displayName: name,
      image: 'demo:latest',
      port: 8888,
      sizes: { small: { cpu: 256, memory: 512 } },
      defaultSize: 'small',
      ...spec,
    },
  };
}

/** A ToolInstance `namespace/name` of tool `toolRef` (default: `name`); `spec` fields override or add. */
export function toolInstance(
  namespace: string,
  name: string,
  toolRef = name,
  spec: Record<string, unknown> = {},
) {
  return {
    apiVersion: API_VERSION,
    kind: 'ToolInstance',
    metadata: { name, namespace },
    spec: { toolRef, ...spec },
  };
}
