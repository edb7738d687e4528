// The one table of `ray_config` keys. The schema (and the published JSON Schema and docs/config.md),
// the typed model and its defaults, the desired state sent to the node, the health check, the
// rendered tables and the node checks all read it. A new Ray setting is one row here (and the
// matching `ray start` flag in remote_lib's build_start_argv, which a test compares with this table).

/** A node's typed `ray_config`: one field per row of RAY_KEYS; the model always fills in the head's ports. */
export interface RayNodeConfig {
  /** Head only: Ray Client server port (ray://head:port). */
  port?: number;
  /** Head only: GCS port workers join (default 6379). */
  gcsPort?: number;
  /** Head only: dashboard port (default ray_spec.dashboard_port, then 8265). */
  dashboardPort?: number;
  /** Head only: where the dashboard listens (default: 0.0.0.0 with token auth, else the node's address). */
  dashboardHost?: string;
  numCpus?: number;
  numGpus?: number;
  /** Bytes. */
  memory?: number;
  /** Bytes, >= 78643200. */
  objectStoreMemory?: number;
  resources?: Record<string, number>;
  labels?: Record<string, string>;
  /** Default: the address the node was reached at. */
  nodeIpAddress?: string;
  // Ports Ray opens on every node (default: ray_spec.ports, else Ray picks; see NODE_PORT_RAY_KEYS).
  nodeManagerPort?: number;
  objectManagerPort?: number;
  runtimeEnvAgentPort?: number;
  dashboardAgentListenPort?: number;
  dashboardAgentGrpcPort?: number;
  metricsExportPort?: number;
  minWorkerPort?: number;
  maxWorkerPort?: number;
}

export const DEFAULT_CLIENT_PORT = 10001;
export const DEFAULT_GCS_PORT = 6379;
export const DEFAULT_DASHBOARD_PORT = 8265;
export const RAY_MIN_OBJECT_STORE_MEMORY = 78_643_200;

/** Where a head-only key's default comes from: a number, or the cluster-wide `ray_spec.dashboard_port`. */
export type RayKeyDefault = number | 'ray_spec.dashboard_port';

export interface RayKey {
  /** The key under `ray_config` in ray-config.yaml; also its name in the arguments sent to remote_lib. */
  yaml: string;
  /** The field of the typed model (RayNodeConfig). */
  model: keyof RayNodeConfig;
  /** The `ray start` flag remote_lib passes the value as. */
  flag: string;
  /** Ray's resource name, when Ray reports the value among the node's resources. */
  resource?: string;
  /** Memory sizes Ray may round (compared within 1 %); counts must match exactly. */
  sized?: boolean;
  /** Head only: why a worker may not set it. */
  headOnly?: string;
  /** A port Ray opens on every node: `ray_spec.ports` gives the default for all nodes, a node's own value wins. */
  nodePort?: true;
  /** Filled in at the model (head only), so everyone downstream sees the value Ray will use. */
  default?: RayKeyDefault;
  /** The JSON Schema of the value (`x-expected` says in plain words what it must be). */
  schema: Record<string, unknown>;
  /** What the key means (the design note's words), for the editor schema and docs/config.md. */
  description: string;
  example: unknown;
}

const port = (what: string) => ({
  type: 'integer',
  minimum: 1,
  maximum: 65535,
  'x-expected': `a port number from 1 to 65535${what}`,
});

/** Ray's default range for worker processes' ports (`ray start --min-worker-port/--max-worker-port`). */
export const RAY_WORKER_PORTS = { min: 10002, max: 19999 } as const;
/** Ray's default port of the dashboard agent's HTTP server; every other node port is random by default. */
export const RAY_DASHBOARD_AGENT_LISTEN_PORT = 52365;
/**
 * Ports the worker range must hold beyond num_cpus: Ray starts up to num_cpus workers for tasks, and each
 * driver, actor and Ray's own (job supervisor, Serve) takes one more worker, each binding one port.
 */
export const WORKER_PORT_MARGIN = 8;

const nodePort = (what: string, randomByDefault = true) => ({
  nodePort: true as const,
  schema: port(` (${what})`),
  description: `${what[0]!.toUpperCase()}${what.slice(1)}; when left out, ray_spec.ports, else ${randomByDefault ? 'a random free port Ray picks' : `Ray's default ${RAY_DASHBOARD_AGENT_LISTEN_PORT}`}. Pin it to write firewall rules (nokube ray firewall).`,
});

export const RAY_KEYS: readonly RayKey[] = [
  {
    yaml: 'port',
    model: 'port',
    flag: '--ray-client-server-port',
    headOnly: 'the Ray Client server runs on the head',
    default: DEFAULT_CLIENT_PORT,
    schema: port(` (the Ray Client port, default ${DEFAULT_CLIENT_PORT})`),
    description:
      'Head only. The Ray service port of the design note: the Ray Client server, reached as ray://HEAD:port. Must be 1024 or above.',
    example: 10001,
  },
  {
    yaml: 'gcs_port',
    model: 'gcsPort',
    flag: '--port',
    headOnly: 'workers join the GCS on the head',
    default: DEFAULT_GCS_PORT,
    schema: port(` (the port workers join, default ${DEFAULT_GCS_PORT})`),
    description: "Head only. The GCS port workers join (`ray start --port`); the cluster's address is HEAD:gcs_port.",
    example: 6379,
  },
  {
    yaml: 'dashboard_port',
    model: 'dashboardPort',
    flag: '--dashboard-port',
    headOnly: 'the dashboard runs on the head',
    default: 'ray_spec.dashboard_port',
    schema: port(''),
    description: `Head only. The dashboard's port; when left out, ray_spec.dashboard_port (default ${DEFAULT_DASHBOARD_PORT}).`,
    example: 8265,
  },
  {
    yaml: 'dashboard_host',
    model: 'dashboardHost',
    flag: '--dashboard-host',
    headOnly: 'the dashboard runs on the head',
    schema: { type: 'string', 'x-expected': 'an IPv4 or IPv6 address of the head, or 0.0.0.0 for every interface' },
    description:
      "Head only. The address the dashboard (and Ray's Jobs API) listens on. When left out: every interface (0.0.0.0) when the head's Ray checks a token (2.52 and later), else only the head's own address (node_ip_address), or 127.0.0.1 on an IPv6 head (an older Ray checks the dashboard port over IPv4 only; reach it with `nokube ray dashboard`), since an older Ray's Jobs API runs code for anyone.",
    example: '10.0.0.5',
  },
  {
    yaml: 'num_cpus',
    model: 'numCpus',
    flag: '--num-cpus',
    resource: 'CPU',
    schema: { type: 'integer', minimum: 0, 'x-expected': 'a non-negative integer' },
    description: 'The number of CPUs Ray may use on this node; when left out, Ray counts them.',
    example: 4,
  },
  {
    yaml: 'num_gpus',
    model: 'numGpus',
    flag: '--num-gpus',
    resource: 'GPU',
    schema: { type: 'integer', minimum: 0, 'x-expected': 'a non-negative integer' },
    description: 'The number of GPUs Ray may use on this node; when left out, Ray detects them.',
    example: 1,
  },
  {
    yaml: 'memory',
    model: 'memory',
    flag: '--memory',
    resource: 'memory',
    sized: true,
    schema: { type: 'integer', minimum: 1, 'x-expected': 'a positive integer number of bytes' },
    description: "Bytes of memory Ray's tasks and actors may reserve on this node (a plain number of bytes).",
    example: 8000000000,
  },
  {
    yaml: 'object_store_memory',
    model: 'objectStoreMemory',
    flag: '--object-store-memory',
    resource: 'object_store_memory',
    sized: true,
    schema: {
      type: 'integer',
      minimum: RAY_MIN_OBJECT_STORE_MEMORY,
      'x-expected': `an integer number of bytes, at least ${RAY_MIN_OBJECT_STORE_MEMORY} (Ray's minimum, 75 MiB)`,
    },
    description: "Bytes of the node's object store (shared memory), at least 78643200; when left out, Ray chooses.",
    example: 1000000000,
  },
  {
    yaml: 'resources',
    model: 'resources',
    flag: '--resources',
    schema: {
      type: ['object', 'null'],
      'x-expected': 'a mapping of resource name to amount (my_accelerator: 2)',
      additionalProperties: { type: 'number', minimum: 0, 'x-expected': 'a non-negative number' },
    },
    description: 'Custom resources of this node, name to amount (CPU, GPU and memory have their own keys).',
    example: { my_accelerator: 2 },
  },
  {
    yaml: 'labels',
    model: 'labels',
    flag: '--labels',
    schema: {
      type: ['object', 'null'],
      'x-expected': 'a mapping of label name to text (zone: eu-west-1a)',
      additionalProperties: { type: 'string', 'x-expected': 'a string (put numbers and true/false in quotes)' },
    },
    description:
      'Ray node labels, name to text (Kubernetes label syntax); nokube adds nokube.io/node with the node name.',
    example: { zone: 'eu-west-1a' },
  },
  {
    yaml: 'node_ip_address',
    model: 'nodeIpAddress',
    flag: '--node-ip-address',
    schema: { type: 'string', 'x-expected': 'an IPv4 or IPv6 address' },
    description: 'The address other nodes reach this one at; when left out, the address in ssh_url.',
    example: '10.0.0.5',
  },
  {
    yaml: 'node_manager_port',
    model: 'nodeManagerPort',
    flag: '--node-manager-port',
    ...nodePort("the raylet's node manager port, which every other node connects to"),
    example: 8076,
  },
  {
    yaml: 'object_manager_port',
    model: 'objectManagerPort',
    flag: '--object-manager-port',
    ...nodePort("the raylet's object manager port, which other nodes pull objects from"),
    example: 8077,
  },
  {
    yaml: 'runtime_env_agent_port',
    model: 'runtimeEnvAgentPort',
    flag: '--runtime-env-agent-port',
    ...nodePort("the runtime environment agent's HTTP port"),
    example: 8078,
  },
  {
    yaml: 'dashboard_agent_listen_port',
    model: 'dashboardAgentListenPort',
    flag: '--dashboard-agent-listen-port',
    ...nodePort("the dashboard agent's HTTP port (the job API's agent)", false),
    example: RAY_DASHBOARD_AGENT_LISTEN_PORT,
  },
  {
    yaml: 'dashboard_agent_grpc_port',
    model: 'dashboardAgentGrpcPort',
    flag: '--dashboard-agent-grpc-port',
    ...nodePort("the dashboard agent's gRPC port"),
    example: 8079,
  },
  {
    yaml: 'metrics_export_port',
    model: 'metricsExportPort',
    flag: '--metrics-export-port',
    ...nodePort("the node's Prometheus metrics port"),
    example: 8080,
  },
  {
    yaml: 'min_worker_port',
    model: 'minWorkerPort',
    flag: '--min-worker-port',
    nodePort: true,
    schema: port(' (the lowest port of the worker range)'),
    description: `The lowest port Ray's worker processes bind (one port each); set together with max_worker_port. When left out, ray_spec.ports, else Ray's ${RAY_WORKER_PORTS.min}.`,
    example: 10002,
  },
  {
    yaml: 'max_worker_port',
    model: 'maxWorkerPort',
    flag: '--max-worker-port',
    nodePort: true,
    schema: port(' (the highest port of the worker range)'),
    description: `The highest port of the worker range; the range must hold num_cpus + ${WORKER_PORT_MARGIN} ports (tasks' workers plus drivers, actors and Ray's own). When left out, ray_spec.ports, else Ray's ${RAY_WORKER_PORTS.max}.`,
    example: 10100,
  },
];

/** The row of a `ray_config` key, by its YAML name. */
export function rayKey(yaml: string): RayKey | undefined {
  return RAY_KEYS.find((k) => k.yaml === yaml);
}

export const HEAD_ONLY_RAY_KEYS = RAY_KEYS.filter((k) => k.headOnly !== undefined);

/** The head's ports (each has a default, so Ray's port clashes can be checked before it starts). */
export const HEAD_PORT_RAY_KEYS = HEAD_ONLY_RAY_KEYS.filter(
  (k): k is RayKey & { default: RayKeyDefault } => k.default !== undefined,
);

/** Ports Ray opens on every node, which `ray_spec.ports` may pin for all nodes at once. */
export const NODE_PORT_RAY_KEYS = RAY_KEYS.filter((k) => k.nodePort);

/** Keys Ray reports among a node's resources (num_cpus -> CPU, ...), in the table's order. */
export const RESOURCE_RAY_KEYS = RAY_KEYS.filter((k): k is RayKey & { resource: string } => k.resource !== undefined);
