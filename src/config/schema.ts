// The shape of ray-config.yaml as a JSON Schema. `x-expected` says, in plain words, what a value must
// be; schema-check.ts turns every ajv error into "expected <x-expected>, found <value>".
// Checks that need more than one value (one head, unique names, port clashes) live in semantics.ts.
import { RAY_MIN_OBJECT_STORE_MEMORY } from './types';

/** Node and cluster names reach file names, lock names and logs. */
export const NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]{0,62}$';
const NAME_WORDS = '1–63 letters, digits, ".", "_" or "-", not starting with "." or "-"';

const port = {
  type: 'integer',
  minimum: 1,
  maximum: 65535,
  'x-expected': 'a port number from 1 to 65535',
};

const count = { type: 'integer', minimum: 0, 'x-expected': 'a non-negative integer' };

const name = { type: 'string', pattern: NAME_PATTERN, 'x-expected': NAME_WORDS };

const rayConfig = {
  type: ['object', 'null'],
  additionalProperties: false,
  'x-expected': 'a mapping of Ray settings (num_cpus: 8, ...)',
  properties: {
    port: { ...port, 'x-expected': 'a port number from 1 to 65535 (the Ray Client port, default 10001)' },
    gcs_port: { ...port, 'x-expected': 'a port number from 1 to 65535 (the port workers join, default 6379)' },
    dashboard_port: port,
    num_cpus: count,
    num_gpus: count,
    memory: { type: 'integer', minimum: 1, 'x-expected': 'a positive integer number of bytes' },
    object_store_memory: {
      type: 'integer',
      minimum: RAY_MIN_OBJECT_STORE_MEMORY,
      'x-expected': `an integer number of bytes, at least ${RAY_MIN_OBJECT_STORE_MEMORY} (Ray's minimum, 75 MiB)`,
    },
    resources: {
      type: ['object', 'null'],
      'x-expected': 'a mapping of resource name to amount (my_accelerator: 2)',
      additionalProperties: { type: 'number', minimum: 0, 'x-expected': 'a non-negative number' },
    },
    labels: {
      type: ['object', 'null'],
      'x-expected': 'a mapping of label name to text (zone: eu-west-1a)',
      additionalProperties: { type: 'string', 'x-expected': 'a string (put numbers and true/false in quotes)' },
    },
    node_ip_address: { type: 'string', 'x-expected': 'an IPv4 or IPv6 address' },
  },
};

const storage = {
  type: ['object', 'null'],
  additionalProperties: false,
  'x-expected': 'a mapping {type: local, path: /absolute/path}',
  properties: {
    type: {
      enum: ['local'],
      'x-expected': '"local" (the only storage type)',
      'x-hint':
        "storage is the node's own working directory: use type: local with a path on that node (mount shared storage there yourself if you need it)",
    },
    path: {
      type: 'string',
      minLength: 1,
      'x-expected': 'an absolute path on the node, e.g. /opt/nokube/data/ray/head',
    },
  },
};

const user = {
  type: 'object',
  required: ['userid'],
  additionalProperties: false,
  'x-expected': 'a mapping with userid and one of password or sshkey',
  properties: {
    userid: { type: 'string', minLength: 1, 'x-expected': 'a login name' },
    password: { type: 'string', minLength: 1, 'x-expected': 'a non-empty string, best a ${ENV_NAME} reference' },
    sshkey: { type: 'string', minLength: 1, 'x-expected': 'a public key line ("ssh-ed25519 AAAA... comment")' },
  },
};

const node = {
  type: 'object',
  required: ['ssh_url', 'name', 'role'],
  additionalProperties: false,
  'x-expected': 'a mapping describing one machine (ssh_url, name, role, ...)',
  properties: {
    ssh_url: { type: 'string', minLength: 1, 'x-expected': 'host:port, e.g. "prod-server-1:22"' },
    name,
    role: { enum: ['head', 'worker'], 'x-expected': 'head or worker' },
    ray_config: rayConfig,
    storage,
    users: {
      type: ['array', 'null'],
      'x-expected': 'a list of users (`- userid: ...` items)',
      items: user,
    },
    host_key: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a public key line ("ssh-ed25519 AAAA...") or a "SHA256:..." fingerprint',
    },
    proxy_jump: {
      type: 'string',
      minLength: 1,
      'x-expected': 'jump hosts as for ssh -J: "[user@]host[:port]", comma-separated (at most 3), or "none"',
    },
  },
};

export const configSchema = {
  type: 'object',
  required: ['nodes'],
  additionalProperties: false,
  'x-expected': 'a mapping with `nodes:` and optionally `ray_spec:`',
  properties: {
    ray_spec: {
      type: ['object', 'null'],
      additionalProperties: false,
      'x-expected': 'a mapping of cluster-wide settings (dashboard_port, max_workers, ...)',
      properties: {
        dashboard_port: port,
        max_workers: { ...count, 'x-expected': 'a non-negative integer (the most worker nodes allowed)' },
        cluster_name: name,
        ray_version: {
          type: 'string',
          pattern: '^\\d+\\.\\d+(\\.\\d+)?([.+-]?[A-Za-z0-9]+)*$',
          'x-expected': 'a Ray version such as "2.9.3" (in quotes)',
        },
        python: {
          type: 'string',
          pattern: '^[A-Za-z0-9_./+@][A-Za-z0-9_./+@-]*$',
          'x-expected':
            'one interpreter path or command, e.g. /opt/venv/bin/python3 or python3 (no spaces, quotes or shell characters)',
        },
        proxy_jump: {
          type: 'string',
          minLength: 1,
          'x-expected': 'jump hosts as for ssh -J: "[user@]host[:port]", comma-separated (at most 3), or "none"',
        },
      },
    },
    nodes: {
      type: 'array',
      minItems: 1,
      'x-expected': 'a list of nodes (`- ssh_url: ...` items), at least one',
      items: node,
    },
  },
} as const;

/** What a missing required key is for, so the message can say what to add. */
export const REQUIRED_KEY_WORDS: Record<string, string> = {
  nodes: 'the list of machines (`nodes:` with `- ssh_url: ...` items)',
  ssh_url: 'the address to reach the node at, e.g. ssh_url: "prod-server-1:22"',
  name: 'a unique node name, e.g. name: ray-worker-1',
  role: 'role: head or role: worker',
  userid: 'the login name, e.g. userid: deploy',
};

/** The keys allowed in each kind of mapping, by the path pattern of that mapping. */
export const KEYS_BY_SECTION: Record<string, readonly string[]> = {
  '': Object.keys(configSchema.properties),
  ray_spec: Object.keys(configSchema.properties.ray_spec.properties),
  'nodes[]': Object.keys(node.properties),
  'nodes[].ray_config': Object.keys(rayConfig.properties),
  'nodes[].storage': Object.keys(storage.properties),
  'nodes[].users[]': Object.keys(user.properties),
};

/** `nodes[3].ray_config` -> `nodes[].ray_config`: which kind of mapping a path is. */
export function sectionOf(path: string): string {
  return path.replace(/\[\d+\]/g, '[]');
}

/** Where a key belongs when it is written at the wrong level ("num_cpus belongs under ray_config"). */
export function sectionsHolding(key: string): string[] {
  return Object.entries(KEYS_BY_SECTION)
    .filter(([, keys]) => keys.includes(key))
    .map(([section]) => section);
}
