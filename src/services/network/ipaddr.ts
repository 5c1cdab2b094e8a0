// Moved to src/util/ipaddr.ts so the data plane (src/net) can share it; re-exported for the network service.
export * from '../../util/ipaddr.js';
