import type { ServiceApi } from './http/service-api.js';
import { identityApi } from './identity/index.js';
import { imageApi } from './image/index.js';
import { networkApi } from './network/index.js';
import { computeApi } from './compute/index.js';
import { volumeApi } from './volume/index.js';

/** Every OpenStack service the cloud serves, in catalog order. Each new service adds one line. */
export const serviceApis: ServiceApi[] = [identityApi, imageApi, networkApi, computeApi, volumeApi];
