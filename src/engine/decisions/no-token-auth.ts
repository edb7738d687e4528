// A head whose Ray has no token authentication (before 2.52) serves its dashboard and Jobs API (which
// runs any code it is sent) to whoever reaches the port: say so in every output, and say where it
// listens (remote_lib binds it to the node's own address unless ray_config.dashboard_host says otherwise).
import { isIPv6 } from 'node:net';
import type { ClusterConfig } from '../../config/types';
import type { ProbeAnswer } from '../../remote/types';
import { dashboardPort } from './desired';

const EVERY_INTERFACE = new Set(['0.0.0.0', '::']);

/** Ray 2.52 is the first with token authentication (remote_lib's TOKEN_AUTH_MIN). */
function hasTokenAuth(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map((p) => parseInt(p, 10) || 0);
  return major > 2 || (major === 2 && minor >= 52);
}

/**
 * The head's Ray as its probe found it; when ray_spec.ray_version asks for another one (or the head
 * has none yet, or was not looked at), the one the head gets: a plan before the install warns too.
 */
export function noTokenAuthWarning(cluster: ClusterConfig, headProbe: ProbeAnswer | undefined): string | undefined {
  const found = headProbe?.ray;
  const wanted = cluster.rayVersion;
  const ray =
    found && (!wanted || found.version === wanted)
      ? { tokenAuth: found.token_auth, runs: `runs Ray ${found.version}` }
      : wanted
        ? { tokenAuth: hasTokenAuth(wanted), runs: `gets Ray ${wanted} (ray_spec.ray_version)` }
        : undefined;
  if (!ray || ray.tokenAuth !== false) return undefined;
  const head = cluster.head;
  const chosen = head.ray.dashboardHost;
  const where =
    chosen !== undefined && EVERY_INTERFACE.has(chosen)
      ? `ray_config.dashboard_host ${chosen} makes it listen on every interface of the head`
      : chosen !== undefined
        ? `it is bound to ${chosen} (ray_config.dashboard_host)`
        : isIPv6(head.ray.nodeIpAddress ?? head.host)
          ? // remote_lib binds it to loopback: an old Ray's dashboard cannot bind an IPv6 address
            `it is bound to 127.0.0.1 (the head's address is IPv6, which this Ray's dashboard cannot bind; open it with nokube ray dashboard)`
          : `it is bound to the node's own address (${head.ray.nodeIpAddress ?? head.host})`;
  return (
    `the head ${head.name} ${ray.runs}, which has no token authentication (Ray 2.52 and later have it): ` +
    `anyone who can reach its dashboard port ${dashboardPort(cluster)} can submit jobs; ${where}, ` +
    `so keep that port behind a firewall, or upgrade Ray`
  );
}
