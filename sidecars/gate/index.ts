// sidecars/gate/: the gate in front of a tool (see README.md).
export { type GateConfig, gateConfigSchema, loadGateConfig } from './config.ts';
export { HEALTH_PATH, type RunningGate, SECRET_HEADER, startGate } from './gate.ts';
