import type { GureumConfig } from '../../config.js';

/** Compute's settings: the `compute` section of the config (docs/configuration.md). */
export type ComputeOptions = GureumConfig['compute'];
