// The checked plain tree -> the typed ClusterConfig the engine uses, with defaults filled in.
// Only called when there are no errors, so values have the shape the schema promises.
import { asList, asMap, asString, type PlainMap } from './plain';
import { parseProxyJump } from './proxy-jump';
import { logSizeBytes } from './log-size';
import { requirementOf } from './requirements';
import { parseSshUrl } from './ssh-url';
import { DEFAULT_DASHBOARD_PORT, NODE_PORT_RAY_KEYS, RAY_KEYS } from './ray-keys';
import {
  DEFAULT_CLUSTER_NAME,
  DEFAULT_INSTALL_TIMEOUT_SEC,
  DEFAULT_ROLLOUT,
  DEFAULT_RESTART,
  DEFAULT_KEEP_SESSIONS,
  DEFAULT_KEEP_DEAD_WORKER_LOGS,
  DEFAULT_LOG_ROTATION,
  type ClusterConfig,
  type LogRotationSpec,
  type InstallSpec,
  type NodeSpec,
  type RayNodeConfig,
  type RolloutSpec,
  type UserSpec,
} from './types';
import type { SourceIndex } from './yaml/source-index';

export function buildConfig(root: PlainMap, file: string, index: SourceIndex): ClusterConfig {
  const raySpec = asMap(root.ray_spec) ?? {};
  const dashboardPort = (raySpec.dashboard_port as number | undefined) ?? DEFAULT_DASHBOARD_PORT;
  const clusterJump = asString(raySpec.proxy_jump);
  const clusterPorts = asMap(raySpec.ports) ?? {};
  const nodes = asList(root.nodes).map((entry, i) => {
    const spec = buildNode(entry as PlainMap, i, dashboardPort, index);
    for (const key of NODE_PORT_RAY_KEYS) {
      const value = clusterPorts[key.yaml];
      if (typeof value === 'number' && spec.ray[key.model] === undefined)
        Object.assign(spec.ray, { [key.model]: value });
    }
    const jump = asString((entry as PlainMap).proxy_jump) ?? clusterJump;
    if (jump !== undefined) {
      const parsed = parseProxyJump(jump);
      if (!parsed.ok) throw new Error(`internal: proxy_jump of nodes[${i}] was checked but does not parse`);
      spec.proxyJump = parsed.hops;
    }
    return spec;
  });
  const head = nodes.find((n) => n.role === 'head')!;
  const config: ClusterConfig = {
    file,
    clusterName: asString(raySpec.cluster_name) ?? DEFAULT_CLUSTER_NAME,
    dashboardPort,
    rollout: buildRollout(asMap(raySpec.rollout) ?? {}),
    restart: raySpec.restart === 'never' ? 'never' : DEFAULT_RESTART,
    keepSessions: typeof raySpec.keep_sessions === 'number' ? raySpec.keep_sessions : DEFAULT_KEEP_SESSIONS,
    logRotation: buildLogRotation(asMap(raySpec.log_rotation) ?? {}),
    keepDeadWorkerLogs:
      typeof raySpec.keep_dead_worker_logs === 'number' ? raySpec.keep_dead_worker_logs : DEFAULT_KEEP_DEAD_WORKER_LOGS,
    nodes,
    head,
    workers: nodes.filter((n) => n.role === 'worker'),
  };
  // Computed when first read: a line:col for every key of a 5 MB config is most of its validate time.
  // Not enumerable, so copying or masking the result (mapStrings, JSON) does not compute it.
  let positions: ClusterConfig['positions'];
  Object.defineProperty(config, 'positions', {
    enumerable: false,
    get: () => (positions ??= index.keyPositions()),
  });
  if (typeof raySpec.max_workers === 'number') config.maxWorkers = raySpec.max_workers;
  if (typeof raySpec.ray_version === 'string') config.rayVersion = raySpec.ray_version;
  if (typeof raySpec.python === 'string') config.python = raySpec.python;
  const install = asMap(raySpec.install);
  if (install || raySpec.install === null) config.install = buildInstall(install ?? {});
  const faultTolerance = asMap(raySpec.gcs_fault_tolerance);
  if (faultTolerance) {
    config.gcsFaultTolerance = { redisAddress: String(faultTolerance.redis_address).trim() };
    const password = asString(faultTolerance.redis_password);
    if (password !== undefined) config.gcsFaultTolerance.redisPassword = password;
  }
  return config;
}

function buildRollout(raw: PlainMap): RolloutSpec {
  const unavailable = raw.max_unavailable;
  return {
    drainTimeoutSec: typeof raw.drain_timeout === 'number' ? raw.drain_timeout : DEFAULT_ROLLOUT.drainTimeoutSec,
    maxUnavailable:
      typeof unavailable === 'number'
        ? { count: unavailable }
        : typeof unavailable === 'string'
          ? { percent: parseInt(unavailable, 10) }
          : DEFAULT_ROLLOUT.maxUnavailable,
    maxFailures: typeof raw.max_failures === 'number' ? raw.max_failures : DEFAULT_ROLLOUT.maxFailures,
  };
}

function buildLogRotation(raw: PlainMap): LogRotationSpec {
  const size = raw.max_bytes;
  return {
    maxBytes: typeof size === 'number' || typeof size === 'string' ? logSizeBytes(size) : DEFAULT_LOG_ROTATION.maxBytes,
    backupCount: typeof raw.backup_count === 'number' ? raw.backup_count : DEFAULT_LOG_ROTATION.backupCount,
  };
}

function buildInstall(raw: PlainMap): InstallSpec {
  const spec: InstallSpec = {
    extras: asList(raw.extras).map(String),
    requirements: asList(raw.packages).map((p) => requirementOf(String(p))),
    timeoutSec: typeof raw.timeout === 'number' ? raw.timeout : DEFAULT_INSTALL_TIMEOUT_SEC,
  };
  const file = asString(raw.requirements);
  if (file !== undefined) spec.requirementsFile = file;
  const indexUrl = asString(raw.index_url);
  if (indexUrl !== undefined) spec.indexUrl = indexUrl;
  const findLinks = asString(raw.find_links);
  if (findLinks !== undefined) spec.findLinks = findLinks;
  return spec;
}

function buildNode(node: PlainMap, i: number, clusterDashboardPort: number, index: SourceIndex): NodeSpec {
  const at = `nodes[${i}]`;
  const sshUrl = node.ssh_url as string;
  const endpoint = parseSshUrl(sshUrl);
  if (!endpoint.ok) throw new Error(`internal: ${at}.ssh_url was checked but does not parse`);
  const role = node.role as NodeSpec['role'];
  const storage = asMap(node.storage);
  const spec: NodeSpec = {
    name: node.name as string,
    role,
    sshUrl,
    host: endpoint.host,
    sshPort: endpoint.port,
    ray: buildRayConfig(asMap(node.ray_config) ?? {}, role, clusterDashboardPort),
    storage: { type: 'local' },
    users: asList(node.users).map((entry, j) => buildUser(entry as PlainMap, index.positionOf(`${at}.users[${j}]`))),
    index: i,
    pos: index.positionOf(at),
  };
  const path = asString(storage?.path);
  if (path !== undefined) spec.storage.path = path;
  const hostKey = asString(node.host_key);
  if (hostKey !== undefined) spec.hostKey = hostKey.trim();
  return spec;
}

/** Every RAY_KEYS row as written, then (head only) the defaults. */
function buildRayConfig(raw: PlainMap, role: NodeSpec['role'], clusterDashboardPort: number): RayNodeConfig {
  const ray: Record<string, unknown> = {};
  for (const key of RAY_KEYS) {
    let value = raw[key.yaml];
    if (value === undefined || value === null) continue;
    if (key.model === 'nodeIpAddress' || key.model === 'dashboardHost')
      value = String(value).replace(/^\[(.*)\]$/, '$1');
    else if (typeof value === 'object') value = { ...(value as PlainMap) };
    ray[key.model] = value;
  }
  return role === 'head' ? withHeadDefaults(ray as RayNodeConfig, clusterDashboardPort) : (ray as RayNodeConfig);
}

/**
 * The head's ports filled in from RAY_KEYS' defaults: the one place defaults are applied, so everyone
 * downstream (desired state, health, plan, remote_lib) sees the values Ray will use. `port` is optional
 * on the head although every note example writes it: a head without it works on Ray Client's 10001.
 */
export function withHeadDefaults(ray: RayNodeConfig, clusterDashboardPort = DEFAULT_DASHBOARD_PORT): RayNodeConfig {
  const out: Record<string, unknown> = { ...ray };
  for (const key of RAY_KEYS) {
    if (key.default === undefined || out[key.model] !== undefined) continue;
    out[key.model] = key.default === 'ray_spec.dashboard_port' ? clusterDashboardPort : key.default;
  }
  return out as RayNodeConfig;
}

function buildUser(raw: PlainMap, pos: UserSpec['pos']): UserSpec {
  const user: UserSpec = { userid: raw.userid as string, pos };
  if (typeof raw.password === 'string') user.password = raw.password;
  if (typeof raw.sshkey === 'string') user.sshkey = raw.sshkey.trim();
  return user;
}
