// The Linux data plane: bridges, VXLAN, taps, dnsmasq, router namespaces and NAT (see linuxbridge-driver.ts).
export { LinuxBridgeDriver, netStateDir, type LinuxBridgeOptions } from './linuxbridge-driver.js';
export type { PhysnetMapping } from './l2.js';
export { tapName } from './names.js';
export { createNftFirewall, type Firewall } from './firewall/index.js';
