// The composition root (docs/architecture.md, "Wiring"): `gureum up`, tests and benchmarks start a cloud here.
export { createController, type Controller } from './controller.js';
export type { ComputeHost } from './compute-host.js';
export { bridgeDriverFor } from './drivers.js';
