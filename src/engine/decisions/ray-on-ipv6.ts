// Preflight for nodes whose Ray would run on IPv6 (pure). Ray parses `[v6]:port` addresses from
// 2.49.0 on (ray-project/ray#55281, "[1/n] IPv6 support: address <-> host:port"): Ray 2.48 and
// older build the GCS address as "fd00::11:6379" ("Invalid gcs_address") and split a worker's
// head address on ":", so neither a head nor a worker starts there: a preflight error. Nodes also
// reach each other on the addresses they advertise, so a cluster mixing IPv4 and IPv6 forms only
// where every node has both: a warning.
import { isIPv6 } from 'node:net';
import type { ClusterConfig, NodeSpec } from '../../config/types';
import type { AppliedSpec, ProbeAnswer } from '../../remote/types';
import type { RunError } from '../types';

/** The first Ray release whose sockets follow an IPv6 node address. */
export const FIRST_IPV6_RAY = '2.49.0';

export function rayOnIpv6Problems(
  cluster: ClusterConfig,
  probes: Map<string, ProbeAnswer>,
  wanted: Map<string, AppliedSpec>,
): { problems: RunError[]; warnings: string[] } {
  const problems: RunError[] = [];
  const warnings: string[] = [];
  const address = (n: NodeSpec) => wanted.get(n.name)?.ray.node_ip_address as string | undefined;
  const headIp = address(cluster.head);
  for (const node of cluster.nodes) {
    const p = probes.get(node.name);
    const ip = address(node);
    if (!p?.ok || !ip) continue;
    const at = { node: node.name, host: node.sshUrl };
    const from = node.ray.nodeIpAddress
      ? 'its ray_config.node_ip_address'
      : `its ssh_url${node.sshAlias ? ` (HostName of ${node.sshAlias})` : ''}`;
    const setInstead = `set ray_config.node_ip_address of ${node.name} to its IPv4 address (ssh_url can stay IPv6: only nokube's SSH uses it)`;
    const joinsV6Head = node !== cluster.head && !!headIp && isIPv6(headIp);
    if ((isIPv6(ip) || joinsV6Head) && p.ray && older(p.ray.version, FIRST_IPV6_RAY)) {
      problems.push({
        ...at,
        message: isIPv6(ip)
          ? `Ray ${p.ray.version} on ${node.name} cannot run on IPv6: its Ray address would be ${ip} (from ${from}), and Ray runs on IPv6 only from ${FIRST_IPV6_RAY}`
          : `Ray ${p.ray.version} on ${node.name} cannot join a head on IPv6 ([${headIp}]): Ray parses and dials IPv6 addresses only from ${FIRST_IPV6_RAY}`,
        hint: isIPv6(ip)
          ? `${setInstead}, or run Ray ${FIRST_IPV6_RAY} or later on every node (ray_spec.ray_version with ray_spec.install)`
          : `set ray_config.node_ip_address of the head ${cluster.head.name} to its IPv4 address, or run Ray ${FIRST_IPV6_RAY} or later on every node (ray_spec.ray_version with ray_spec.install)`,
      });
      continue;
    }
    if (node !== cluster.head && headIp && isIPv6(ip) !== isIPv6(headIp)) {
      const [mine, theirs] = isIPv6(ip) ? ['IPv6', 'IPv4'] : ['IPv4', 'IPv6'];
      warnings.push(
        `${node.name} would join Ray on ${mine} (${ip}, from ${from}) but the head ${cluster.head.name} is on ${theirs} (${headIp}): ` +
          `Ray's nodes dial the addresses the others advertise, so this works only where every node has both; ` +
          `if ${node.name} does not join, set its ray_config.node_ip_address to its ${theirs} address`,
      );
    }
  }
  return { problems, warnings };
}

/** a < b for dotted release numbers ("2.48.0" < "2.49.0"); pre-release tails are ignored. */
function older(a: string, b: string): boolean {
  const pa = a.split(/[.+-]/).map((x) => parseInt(x, 10));
  const pb = b.split('.').map((x) => parseInt(x, 10));
  for (let i = 0; i < pb.length; i++) {
    const x = Number.isNaN(pa[i]) || pa[i] === undefined ? 0 : pa[i];
    if (x !== pb[i]) return x < pb[i];
  }
  return false;
}
