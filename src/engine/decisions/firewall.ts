// `firewall`: which TCP ports each node must accept, from whom (pure, from the config alone; no SSH).
// Follows Ray's guide on configuring ports: every node opens its node manager, object manager, worker
// range, runtime env agent, dashboard agent and metrics ports to the other nodes; the head also opens
// the GCS port to them, and its dashboard and Ray Client ports to the deployer and users.
import { NODE_PORT_RAY_KEYS, RAY_DASHBOARD_AGENT_LISTEN_PORT } from '../../config/ray-keys';
import type { ClusterConfig, NodeSpec } from '../../config/types';
import { clientPort, dashboardPort, gcsPort, rayArgs, RAY_WORKER_PORTS } from './desired';
import type { FirewallPlan, FirewallRule, NodeFirewall } from '../types';

/** Where Linux hands out ports bound to port 0 (net.ipv4.ip_local_port_range), which Ray's random ports are. */
export const EPHEMERAL_PORTS = { min: 32768, max: 60999 } as const;

const WHAT: Record<string, string> = {
  node_manager_port: 'node manager',
  object_manager_port: 'object manager',
  runtime_env_agent_port: 'runtime env agent',
  dashboard_agent_grpc_port: 'dashboard agent gRPC',
  dashboard_agent_listen_port: 'dashboard agent HTTP',
  metrics_export_port: 'metrics export',
};

/** The head's own Prometheus endpoints (autoscaler, dashboard): fixed by Ray, no node connects to them. */
export const HEAD_METRICS_PORTS: [number, number] = [44217, 44227];

export function nodeAddress(node: NodeSpec): string {
  return node.ray.nodeIpAddress ?? node.host;
}

export function firewallPlan(cluster: ClusterConfig, deployer?: string): FirewallPlan {
  const unpinned = new Set<string>();
  const nodes = cluster.nodes.map((node): NodeFirewall => {
    const rules: FirewallRule[] = [
      { ports: [node.sshPort, node.sshPort], what: 'SSH', from: 'deployer', known: 'config' },
    ];
    const one = (port: number, what: string, from: FirewallRule['from'], known: FirewallRule['known'] = 'config') =>
      rules.push({ ports: [port, port], what, from, known });
    if (node.role === 'head') {
      one(gcsPort(node), 'GCS (gcs_port)', 'nodes');
      one(dashboardPort(cluster), 'dashboard and job API (dashboard_port)', 'deployer');
      one(clientPort(node), 'Ray Client (port)', 'deployer');
    }
    const random: string[] = [];
    for (const key of NODE_PORT_RAY_KEYS) {
      if (key.yaml === 'min_worker_port' || key.yaml === 'max_worker_port') continue;
      const port = node.ray[key.model] as number | undefined;
      const what = `${WHAT[key.yaml] ?? key.yaml} (${key.yaml})`;
      if (port !== undefined) one(port, what, 'nodes');
      else if (key.yaml === 'dashboard_agent_listen_port')
        one(RAY_DASHBOARD_AGENT_LISTEN_PORT, `${what}, Ray default`, 'nodes', 'default');
      else {
        random.push(key.yaml);
        unpinned.add(key.yaml);
      }
    }
    // the range rayArgs passes (pinned, or Ray's default moved off the node's pinned ports), else Ray's default
    const args = rayArgs(cluster, node, nodeAddress(node));
    const min = (args.min_worker_port as number | undefined) ?? RAY_WORKER_PORTS.min;
    const max = (args.max_worker_port as number | undefined) ?? RAY_WORKER_PORTS.max;
    const pinnedRange = node.ray.minWorkerPort !== undefined;
    if (!pinnedRange) unpinned.add('min_worker_port').add('max_worker_port');
    rules.push({
      ports: [min, max],
      what: `worker processes (min_worker_port..max_worker_port${pinnedRange ? '' : ', Ray default'})`,
      from: 'nodes',
      known: pinnedRange ? 'config' : 'default',
    });
    if (random.length) {
      rules.push({
        ports: [EPHEMERAL_PORTS.min, EPHEMERAL_PORTS.max],
        what: 'ports Ray picks at random (not pinned)',
        from: 'nodes',
        known: 'random',
      });
    }
    const peers = cluster.nodes.filter((n) => n !== node).map((n) => ({ node: n.name, address: nodeAddress(n) }));
    return {
      node: node.name,
      role: node.role,
      address: nodeAddress(node),
      peers,
      rules: peers.length ? rules : rules.filter((r) => r.from !== 'nodes'),
    };
  });
  const plan: FirewallPlan = {
    cluster: cluster.clusterName,
    nodes,
    unpinned: NODE_PORT_RAY_KEYS.map((k) => k.yaml).filter((k) => unpinned.has(k)),
    headMetricsPorts: HEAD_METRICS_PORTS,
    randomRanges: {
      workers: [RAY_WORKER_PORTS.min, RAY_WORKER_PORTS.max],
      others: [EPHEMERAL_PORTS.min, EPHEMERAL_PORTS.max],
    },
  };
  if (deployer !== undefined) plan.deployer = deployer;
  return plan;
}
