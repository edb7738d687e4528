// The checked plain tree -> the typed ClusterConfig the engine uses, with defaults filled in.
// Only called when there are no errors, so values have the shape the schema promises.
import { asList, asMap, asString, type PlainMap } from './plain';
import { parseProxyJump } from './proxy-jump';
import { parseSshUrl } from './ssh-url';
import {
  DEFAULT_CLIENT_PORT,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_DASHBOARD_PORT,
  DEFAULT_GCS_PORT,
  type ClusterConfig,
  type NodeSpec,
  type RayNodeConfig,
  type UserSpec,
} from './types';
import type { SourceIndex } from './yaml-source';

export function buildConfig(root: PlainMap, file: string, index: SourceIndex): ClusterConfig {
  const raySpec = asMap(root.ray_spec) ?? {};
  const dashboardPort = (raySpec.dashboard_port as number | undefined) ?? DEFAULT_DASHBOARD_PORT;
  const clusterJump = asString(raySpec.proxy_jump);
  const nodes = asList(root.nodes).map((entry, i) => {
    const spec = buildNode(entry as PlainMap, i, dashboardPort, index);
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
    nodes,
    head,
    workers: nodes.filter((n) => n.role === 'worker'),
    positions: index.keyPositions(),
  };
  if (typeof raySpec.max_workers === 'number') config.maxWorkers = raySpec.max_workers;
  if (typeof raySpec.ray_version === 'string') config.rayVersion = raySpec.ray_version;
  if (typeof raySpec.python === 'string') config.python = raySpec.python;
  return config;
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

/**
 * The head gets its three ports filled in, so everyone downstream sees the ports Ray will use.
 * `port` is optional on the head although every note example writes it: a head without it still
 * works, on Ray Client's own default 10001.
 */
function buildRayConfig(raw: PlainMap, role: NodeSpec['role'], clusterDashboardPort: number): RayNodeConfig {
  const ray: RayNodeConfig = {};
  const int = (key: string) => (typeof raw[key] === 'number' ? (raw[key] as number) : undefined);
  if (role === 'head') {
    ray.port = int('port') ?? DEFAULT_CLIENT_PORT;
    ray.gcsPort = int('gcs_port') ?? DEFAULT_GCS_PORT;
    ray.dashboardPort = int('dashboard_port') ?? clusterDashboardPort;
  }
  const set = <K extends keyof RayNodeConfig>(key: K, value: RayNodeConfig[K] | undefined) => {
    if (value !== undefined) ray[key] = value;
  };
  set('numCpus', int('num_cpus'));
  set('numGpus', int('num_gpus'));
  set('memory', int('memory'));
  set('objectStoreMemory', int('object_store_memory'));
  const resources = asMap(raw.resources);
  if (resources) set('resources', { ...(resources as Record<string, number>) });
  const labels = asMap(raw.labels);
  if (labels) set('labels', { ...(labels as Record<string, string>) });
  set('nodeIpAddress', asString(raw.node_ip_address)?.replace(/^\[(.*)\]$/, '$1'));
  return ray;
}

function buildUser(raw: PlainMap, pos: UserSpec['pos']): UserSpec {
  const user: UserSpec = { userid: raw.userid as string, pos };
  if (typeof raw.password === 'string') user.password = raw.password;
  if (typeof raw.sshkey === 'string') user.sshkey = raw.sshkey.trim();
  return user;
}
