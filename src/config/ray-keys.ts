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

/** Keys Ray reports among a node's resources (num_cpus -> CPU, ...), in the table's order. */
export const RESOURCE_RAY_KEYS = RAY_KEYS.filter((k): k is RayKey & { resource: string } => k.resource !== undefined);
