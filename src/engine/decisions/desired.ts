// What each node should be running, derived from the config alone (pure).
// The same object is stored on the node at start and compared later to find drift.
import { NODE_PORT_RAY_KEYS, RAY_KEYS, RAY_WORKER_PORTS } from '../../config/ray-keys';
import { logSizeWords } from '../../config/log-size';
import { DEFAULT_LOG_ROTATION, type ClusterConfig, type LogRotationSpec, type NodeSpec } from '../../config/types';
import type { AppliedSpec } from '../../remote/types';
import type { Drift } from '../types';
import { WORKER_WAIT_WITH_REDIS_SEC, WORKER_WAIT_WITHOUT_REDIS_SEC } from './gcs-fault-tolerance';

export const NODE_LABEL = 'nokube.io/node';

// The model fills in the head's ports (config/model.ts): these only read them.
export function clientPort(head: NodeSpec): number {
  return headPort(head, 'port');
}
export function gcsPort(head: NodeSpec): number {
  return headPort(head, 'gcsPort');
}
export function dashboardPort(cluster: ClusterConfig): number {
  return headPort(cluster.head, 'dashboardPort');
}
function headPort(head: NodeSpec, key: 'port' | 'gcsPort' | 'dashboardPort'): number {
  const value = head.ray[key];
  if (value === undefined) throw new Error(`internal: the head's ${key} was not filled in by the model`);
  return value;
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
  // The GCS address is the one workers join: the head's node_ip_address when set (as in rayArgs).
  return {
    headAddress: `${hostForUrl(head.ray.nodeIpAddress ?? head.host)}:${gcsPort(head)}`,
    clientAddress: `ray://${host}:${clientPort(head)}`,
    dashboardUrl: `http://${host}:${dashboardPort(cluster)}`,
  };
}

/**
 * The arguments remote_lib turns into `ray start`. `nodeIp` is the address the node was reached at
 * (node_ip_address overrides it); the head's is also what workers join.
 */
export function rayArgs(cluster: ClusterConfig, node: NodeSpec, nodeIp: string): Record<string, unknown> {
  const args: Record<string, unknown> = { node_ip_address: node.ray.nodeIpAddress ?? nodeIp };
  for (const key of RAY_KEYS) {
    const value = node.ray[key.model];
    if (value === undefined || (key.headOnly && node.role !== 'head')) continue;
    if (key.yaml === 'resources') {
      if (Object.keys(value).length) args.resources = sortKeys(value as Record<string, number>);
    } else if (key.yaml !== 'labels' && key.yaml !== 'node_ip_address') args[key.yaml] = value;
  }
  // A pinned worker range is the user's; otherwise Ray's default range, without the node's pinned ports.
  if (node.ray.minWorkerPort === undefined) {
    const range = workerPortRange(pinnedPorts(cluster, node).map((p) => p.port));
    if (range) Object.assign(args, range);
  }
  args.labels = sortKeys({ ...(node.ray.labels ?? {}), [NODE_LABEL]: node.name });
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
  const redis = cluster.gcsFaultTolerance;
  // each cluster its own namespace in a Redis several clusters may share (Ray's storage namespace)
  if (node.role === 'head' && redis) spec.redis = { address: redis.redisAddress, namespace: cluster.clusterName };
  if (node.role === 'worker')
    spec.gcs_reconnect_timeout_s = redis ? WORKER_WAIT_WITH_REDIS_SEC : WORKER_WAIT_WITHOUT_REDIS_SEC;
  spec.log_rotation = appliedRotation(cluster.logRotation);
  return spec;
}

// Ray's default range for worker processes' ports: a pinned port inside it makes `ray start` fail.
export { RAY_WORKER_PORTS };

/** A single port Ray will listen on at a node, known before it starts: the head's three, then the pinned ones. */
export interface PinnedPort {
  /** The ray_config key. */
  name: string;
  port: number;
}

/** The node's single ports known in advance (the worker range is not among them). */
export function pinnedPorts(cluster: ClusterConfig, node: NodeSpec): PinnedPort[] {
  const out: PinnedPort[] =
    node.role === 'head'
      ? [
          { name: 'port', port: clientPort(node) },
          { name: 'gcs_port', port: gcsPort(node) },
          { name: 'dashboard_port', port: dashboardPort(cluster) },
        ]
      : [];
  for (const key of NODE_PORT_RAY_KEYS) {
    const port = node.ray[key.model] as number | undefined;
    if (port !== undefined && key.yaml !== 'min_worker_port' && key.yaml !== 'max_worker_port')
      out.push({ name: key.yaml, port });
  }
  return out;
}

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
      drift.push({ field: `ray_config.${key}`, from: show(from), to: show(to) });
    }
  }
  if (applied.role !== wanted.role) drift.push({ field: 'role', from: show(applied.role), to: wanted.role });
  if ((applied.head_address ?? '') !== (wanted.head_address ?? '')) {
    drift.push({ field: 'head address', from: show(applied.head_address), to: show(wanted.head_address) });
  }
  if ((applied.python ?? '') !== (wanted.python ?? '')) {
    drift.push({ field: 'ray_spec.python', from: show(applied.python), to: show(wanted.python) });
  }
  const redis = (s: AppliedSpec) => (s.redis ? `${s.redis.address} (namespace ${s.redis.namespace})` : undefined);
  if (redis(applied) !== redis(wanted)) {
    drift.push({ field: 'ray_spec.gcs_fault_tolerance', from: show(redis(applied)), to: show(redis(wanted)) });
  }
  // a spec written before nokube set it: the raylet runs with Ray's default
  const wait = (s: AppliedSpec) => (s.role === 'worker' ? `${s.gcs_reconnect_timeout_s ?? 60} s` : undefined);
  if (wait(applied) !== wait(wanted)) {
    drift.push({ field: 'wait for a restarting head', from: show(wait(applied)), to: show(wait(wanted)) });
  }
  // a spec written before nokube set it: Ray ran with its own defaults
  const rotation = (s: AppliedSpec) => {
    const r = s.log_rotation ?? appliedRotation(DEFAULT_LOG_ROTATION);
    return `max_bytes ${logSizeWords(r.max_bytes)}, backup_count ${r.backup_count}`;
  };
  if (rotation(applied) !== rotation(wanted)) {
    drift.push({ field: 'ray_spec.log_rotation', from: rotation(applied), to: rotation(wanted) });
  }
  return drift;
}

function sortKeys<V>(record: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** ray_spec.log_rotation as the node stores it (applied.json) and Ray is given it. */
function appliedRotation(r: LogRotationSpec): { max_bytes: number; backup_count: number } {
  return { max_bytes: r.maxBytes, backup_count: r.backupCount };
}
