// A head whose Ray has no token authentication (before 2.52) serves its dashboard and Jobs API (which
// runs any code it is sent) to whoever reaches the port: say so in every output, and say where it
// listens (remote_lib binds it to the node's own address unless ray_config.dashboard_host says otherwise).
import type { ClusterConfig } from '../config/types';
import type { ProbeAnswer } from '../remote/types';
import { dashboardPort } from './desired';

const EVERY_INTERFACE = new Set(['0.0.0.0', '::']);

export function noTokenAuthWarning(cluster: ClusterConfig, headProbe: ProbeAnswer | undefined): string | undefined {
  const ray = headProbe?.ray;
  if (!ray || ray.token_auth !== false) return undefined;
  const head = cluster.head;
  const chosen = head.ray.dashboardHost;
  const where =
    chosen !== undefined && EVERY_INTERFACE.has(chosen)
      ? `ray_config.dashboard_host ${chosen} makes it listen on every interface of the head`
      : chosen !== undefined
        ? `it is bound to ${chosen} (ray_config.dashboard_host)`
        : `it is bound to the node's own address (${head.ray.nodeIpAddress ?? head.host})`;
  return (
    `the head ${head.name} runs Ray ${ray.version}, which has no token authentication (Ray 2.52 and later have it): ` +
    `anyone who can reach its dashboard port ${dashboardPort(cluster)} can submit jobs; ${where}, ` +
    `so keep that port behind a firewall, or upgrade Ray`
  );
}
