// Device and namespace names, derived from object ids the way Neutron's Linux bridge, DHCP and L3 agents name them,
// so an operator who knows Neutron finds them (`brq…`, `tap…`, `qdhcp-…`, `qrouter-…`). Interface names stay ≤ 15
// bytes.

const short = (id: string): string => id.slice(0, 11);

/** The bridge of a network on this host. */
export const bridgeName = (networkId: string): string => `brq${short(networkId)}`;
/** The bridge-side device of any port: the guest's tap, or the host end of a namespace's veth. */
export const tapName = (portId: string): string => `tap${short(portId)}`;
/** A network's VXLAN device (named by network, not VNI, so two clouds on one machine never share a name). */
export const vxlanName = (networkId: string): string => `vx-${short(networkId)}`;
/** The namespace end of a DHCP port's veth. */
export const dhcpDeviceName = (portId: string): string => `ns-${short(portId)}`;
/** The namespace end of a router interface (`qr-`) or of its gateway (`qg-`). */
export const routerDeviceName = (portId: string, gateway: boolean): string =>
  `${gateway ? 'qg' : 'qr'}-${short(portId)}`;
export const dhcpNamespace = (networkId: string): string => `qdhcp-${networkId}`;
export const routerNamespace = (routerId: string): string => `qrouter-${routerId}`;

/**
 * The MAC of the host end of a guest's tap: the port's MAC with the first byte fe (as libvirt does). A tap holding the
 * guest's own MAC would make the bridge treat frames to the guest as local and never forward them to the tap.
 */
export function tapMac(portMac: string): string {
  return `fe${portMac.slice(2)}`;
}
