// The ray-config.yaml the e2e suites deploy onto the test hosts, written as a user writes one (block
// style, one node after another). Every node gets a small footprint (1 CPU, Ray's smallest object store
// but one) unless it says otherwise: 2 shared cores carry up to four Ray nodes.

export interface TestNode {
  name: string;
  role: 'head' | 'worker';
  /** The test host's address (10.88.0.11 ...); `ssh_url` is `<ip>:22` unless `sshUrl` says otherwise. */
  ip?: string;
  sshUrl?: string;
  /** storage.path; none = the login user's default. */
  storage?: string;
  /** ray_config keys over the defaults (num_cpus 1, object_store_memory 1e8; a head's port 10001); undefined drops one. */
  ray?: Record<string, unknown>;
  /** More YAML lines of the node (users, host_key ...), indented as its keys. */
  extra?: string[];
}

export interface TestCluster {
  /** ray_spec.cluster_name */
  name: string;
  /** More ray_spec keys, in order (dashboard_port, max_workers, ...). */
  spec?: Record<string, unknown>;
  /** More ray_spec lines as written (a nested rollout block ...), indented as its keys. */
  specLines?: string[];
  nodes: TestNode[];
}

const SMALL = { num_cpus: 1, object_store_memory: 100_000_000 };

/** A YAML scalar or flow mapping (JSON is YAML). */
function value(v: unknown): string {
  return typeof v === 'string' && /^[\w./-]+$/.test(v) ? v : JSON.stringify(v);
}

export function clusterConfig(c: TestCluster): string {
  const spec = Object.entries({ cluster_name: c.name, ...c.spec }).map(([k, v]) => `  ${k}: ${value(v)}`);
  const nodes = c.nodes.map((n) => {
    const ray = Object.entries({ ...(n.role === 'head' ? { port: 10001 } : {}), ...SMALL, ...n.ray }).filter(
      ([, v]) => v !== undefined,
    );
    return [
      `  - ssh_url: "${n.sshUrl ?? `${n.ip}:22`}"`,
      `    name: ${n.name}`,
      `    role: ${n.role}`,
      '    ray_config:',
      ...ray.map(([k, v]) => `      ${k}: ${value(v)}`),
      ...(n.storage ? [`    storage: {type: local, path: ${n.storage}}`] : []),
      ...(n.extra ?? []).map((l) => `    ${l}`),
    ].join('\n');
  });
  return ['ray_spec:', ...spec, ...(c.specLines ?? []).map((l) => `  ${l}`), 'nodes:', ...nodes, ''].join('\n');
}
