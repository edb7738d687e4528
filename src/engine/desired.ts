// What each node should be running, derived from the config alone (pure).
// The same object is stored on the node at start and compared later to find drift.
import type { ClusterConfig, NodeSpec } from '../config/types';
import { DEFAULT_CLIENT_PORT, DEFAULT_GCS_PORT } from '../config/types';
import type { AppliedSpec } from '../remote/types';
import type { Drift } from './types';

export const NODE_LABEL = 'nokube.io/node';

export function clientPort(head: NodeSpec): number {
  return head.ray.port ?? DEFAULT_CLIENT_PORT;
}
export function gcsPort(head: NodeSpec): number {
  return head.ray.gcsPort ?? DEFAULT_GCS_PORT;
}
export function dashboardPort(cluster: ClusterConfig): number {
  return cluster.head.ray.dashboardPort ?? cluster.dashboardPort;
}

/** A host as it appears in a URL or host:port (IPv6 in brackets). */
export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export interface Addresses {
  headAddress: string;
  clientAddress: string;
  dashboardUrl: string;
}

export function addresses(cluster: ClusterConfig): Addresses {
  const head = cluster.head;
  const host = hostForUrl(head.host);
  return {
    headAddress: `${host}:${gcsPort(head)}`,
    clientAddress: `ray://${host}:${clientPort(head)}`,
    dashboardUrl: `http://${host}:${dashboardPort(cluster)}`,
  };
}

/**
 * The arguments remote_lib turns into `ray start`. `nodeIp` is the address the node was reached at
 * (node_ip_address overrides it); the head's is also what workers join.
 */
export function rayArgs(cluster: ClusterConfig, node: NodeSpec, nodeIp: string): Record<string, unknown> {
  const r = node.ray;
  const args: Record<string, unknown> = { node_ip_address: r.nodeIpAddress ?? nodeIp };
  if (node.role === 'head') {
    args.port = clientPort(node);
    args.gcs_port = gcsPort(node);
    args.dashboard_port = dashboardPort(cluster);
    const range = workerPortRange([args.port as number, args.gcs_port as number, args.dashboard_port as number]);
    if (range) Object.assign(args, range);
  }
  if (r.numCpus !== undefined) args.num_cpus = r.numCpus;
  if (r.numGpus !== undefined) args.num_gpus = r.numGpus;
  if (r.memory !== undefined) args.memory = r.memory;
  if (r.objectStoreMemory !== undefined) args.object_store_memory = r.objectStoreMemory;
  if (r.resources && Object.keys(r.resources).length) args.resources = sortKeys(r.resources);
  args.labels = sortKeys({ ...(r.labels ?? {}), [NODE_LABEL]: node.name });
  return args;
}

export function desiredSpec(
  cluster: ClusterConfig,
  node: NodeSpec,
  nodeIp: string,
  headAddress: string | undefined,
): AppliedSpec {
  const spec: AppliedSpec = {
    cluster: cluster.clusterName,
    node: node.name,
    role: node.role,
    ray: rayArgs(cluster, node, nodeIp),
  };
  if (node.role === 'worker' && headAddress) spec.head_address = headAddress;
  if (cluster.python) spec.python = cluster.python;
  return spec;
}

/** Ray's default range for worker processes' ports: a head port inside it makes `ray start` fail. */
export const RAY_WORKER_PORTS = { min: 10002, max: 19999 } as const;

/**
 * When a configured head port lies in Ray's default worker port range (the design note's own advice
 * is to move the client port to 10002), the largest part of that range without it; otherwise none.
 */
export function workerPortRange(ports: number[]): { min_worker_port: number; max_worker_port: number } | undefined {
  const inside = [...new Set(ports.filter((p) => p >= RAY_WORKER_PORTS.min && p <= RAY_WORKER_PORTS.max))].sort(
    (a, b) => a - b,
  );
  if (!inside.length) return undefined;
  let best = { min_worker_port: 0, max_worker_port: -1 };
  let from: number = RAY_WORKER_PORTS.min;
  for (const p of [...inside, RAY_WORKER_PORTS.max + 1]) {
    if (p - 1 - from > best.max_worker_port - best.min_worker_port)
      best = { min_worker_port: from, max_worker_port: p - 1 };
    from = p + 1;
  }
  return best;
}

/** Config key names, in the user's words, for each `ray start` argument. */
const FIELD_NAMES: Record<string, string> = {
  node_ip_address: 'ray_config.node_ip_address',
  port: 'ray_config.port',
  gcs_port: 'ray_config.gcs_port',
  dashboard_port: 'ray_config.dashboard_port',
  num_cpus: 'ray_config.num_cpus',
  num_gpus: 'ray_config.num_gpus',
  memory: 'ray_config.memory',
  object_store_memory: 'ray_config.object_store_memory',
  resources: 'ray_config.resources',
  labels: 'ray_config.labels',
};

function show(value: unknown): string {
  if (value === undefined || value === null) return '(unset)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Fields whose running value differs from the wanted one; empty means "as configured". */
export function specDrift(applied: AppliedSpec | null | undefined, wanted: AppliedSpec): Drift[] {
  if (!applied) return [{ field: 'ray', from: '(unknown: started outside nokube)', to: 'as configured' }];
  const drift: Drift[] = [];
  const keys = new Set([...Object.keys(applied.ray ?? {}), ...Object.keys(wanted.ray)]);
  for (const key of [...keys].sort()) {
    const from = (applied.ray ?? {})[key];
    const to = wanted.ray[key];
    if (JSON.stringify(from) !== JSON.stringify(to)) {
      drift.push({ field: FIELD_NAMES[key] ?? `ray_config.${key}`, from: show(from), to: show(to) });
    }
  }
  if (applied.role !== wanted.role) drift.push({ field: 'role', from: show(applied.role), to: wanted.role });
  if ((applied.head_address ?? '') !== (wanted.head_address ?? '')) {
    drift.push({ field: 'head address', from: show(applied.head_address), to: show(wanted.head_address) });
  }
  if ((applied.python ?? '') !== (wanted.python ?? '')) {
    drift.push({ field: 'ray_spec.python', from: show(applied.python), to: show(wanted.python) });
  }
  return drift;
}

function sortKeys<V>(record: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
