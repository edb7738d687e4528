// The shape of ray-config.yaml as a JSON Schema. `x-expected` says, in plain words, what a value must
// be; schema-check.ts turns every ajv error into "expected <x-expected>, found <value>". Every key has
// a `description` (the design note's meaning) and `examples`: the published editor schema
// (schema/ray-config.schema.json) and docs/config.md are generated from this object (json-schema.ts).
// Checks that need more than one value (one head, unique names, port clashes) live in semantics.ts.
import { DEFAULT_DASHBOARD_PORT, NODE_PORT_RAY_KEYS, RAY_KEYS } from './ray-keys';
import {
  DEFAULT_CLUSTER_NAME,
  DEFAULT_INSTALL_TIMEOUT_SEC,
  DEFAULT_PYTHON,
  DEFAULT_RESTART,
  DEFAULT_KEEP_SESSIONS,
  DEFAULT_KEEP_DEAD_WORKER_LOGS,
  DEFAULT_LOG_ROTATION,
  DEFAULT_ROLLOUT,
} from './types';
import { LOG_SIZE_PATTERN, logSizeWords } from './log-size';

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
  description: "The node's Ray process settings: what `ray start` is run with on this node.",
  examples: [{ num_cpus: 4, object_store_memory: 1000000000 }],
  properties: Object.fromEntries(
    RAY_KEYS.map((k) => [
      k.yaml,
      {
        ...k.schema,
        description: k.description,
        examples: [k.example],
        ...(typeof k.default === 'number' ? { default: k.default } : {}),
      },
    ]),
  ),
};

// One default for every node's ports: a mapping of its own (not flat keys of ray_spec) so it reads as
// "the ports of each node", with the same names as under ray_config, where a node's own value wins.
const ports = {
  type: ['object', 'null'],
  additionalProperties: false,
  'x-expected': 'a mapping of ports every node opens (node_manager_port: 8076, ...)',
  description:
    "The ports every node's Ray opens, pinned for all nodes at once, so a firewall can allow them (nokube ray firewall prints the rules). The same names as under a node's ray_config, where a node's own value wins (e.g. two nodes on one address); a mapping of its own so ray_spec's other keys stay cluster settings.",
  examples: [{ node_manager_port: 8076, object_manager_port: 8077, min_worker_port: 10002, max_worker_port: 10100 }],
  properties: Object.fromEntries(NODE_PORT_RAY_KEYS.map((k) => [k.yaml, rayConfig.properties[k.yaml]])),
};

const storage = {
  type: ['object', 'null'],
  additionalProperties: false,
  'x-expected': 'a mapping {type: local, path: /absolute/path}',
  description:
    "Where nokube keeps this node's state, lock, logs and Ray's files; when left out, ~/.nokube/<cluster_name> of the login user.",
  examples: [{ type: 'local', path: '/opt/nokube/data/ray/head' }],
  properties: {
    type: {
      enum: ['local'],
      'x-expected': '"local" (the only storage type)',
      description: 'The storage type: local, a directory on the node itself.',
      examples: ['local'],
      'x-hint':
        "storage is the node's own working directory: use type: local with a path on that node (mount shared storage there yourself if you need it)",
    },
    path: {
      type: 'string',
      minLength: 1,
      'x-expected': 'an absolute path on the node, e.g. /opt/nokube/data/ray/head',
      description: 'An absolute directory on the node, writable by the login user; one per node.',
      examples: ['/opt/nokube/data/ray/head'],
    },
  },
};

const user = {
  type: 'object',
  required: ['userid'],
  additionalProperties: false,
  'x-expected': 'a mapping with userid and one of password or sshkey',
  description: 'One login for the node: a user name and either a password or the public key of a key you supply.',
  examples: [{ userid: 'deploy', sshkey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... deploy@ci' }],
  properties: {
    userid: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a login name',
      description: 'The login name on the node; may be ${ENV_NAME}.',
      examples: ['deploy'],
    },
    password: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a non-empty string, best a ${ENV_NAME} reference',
      description:
        'The login password: write ${ENV_NAME} and map a secret into that variable (read at validate and connect; never logged).',
      examples: ['${RAY_PROD_PASSWORD}'],
    },
    sshkey: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a public key line ("ssh-ed25519 AAAA... comment")',
      description:
        'The PUBLIC key line of a private key you supply (ssh-private-key input, --identity or ssh-agent): selects which key logs in as this user.',
      examples: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... deploy@ci'],
    },
  },
};

/** max_unavailable's default as the YAML writes it: a count, or a percentage. */
const { maxUnavailable } = DEFAULT_ROLLOUT;
const DEFAULT_MAX_UNAVAILABLE = 'count' in maxUnavailable ? maxUnavailable.count : `${maxUnavailable.percent}%`;

const rollout = {
  type: ['object', 'null'],
  additionalProperties: false,
  'x-expected': 'a mapping {drain_timeout: 60, max_unavailable: 1, max_failures: 0}',
  description:
    'How start changes a running cluster: workers are drained through Ray, then restarted in batches, each batch alive again before the next.',
  examples: [{ drain_timeout: 60, max_unavailable: 1, max_failures: 0 }],
  properties: {
    drain_timeout: {
      type: 'integer',
      minimum: 0,
      maximum: 86400,
      'x-expected': 'a whole number of seconds from 0 (no drain) to 86400',
      description:
        'Seconds a worker is given to finish its running tasks (Ray drain) before it is restarted or stopped; 0 = no drain.',
      default: DEFAULT_ROLLOUT.drainTimeoutSec,
      examples: [120],
    },
    max_unavailable: {
      type: ['integer', 'string'],
      minimum: 1,
      pattern: '^(100|[1-9][0-9]?)%$',
      'x-expected': 'a number of workers (at least 1) or a percentage of the workers ("1%" to "100%")',
      description: 'How many workers are drained and restarted at once: a count, or a percentage of the workers.',
      default: DEFAULT_MAX_UNAVAILABLE,
      examples: ['25%'],
    },
    max_failures: {
      ...count,
      'x-expected': 'a non-negative integer (failed workers before the rollout stops)',
      description: 'How many workers may fail to come back before the rollout stops (the rest are left untouched).',
      default: DEFAULT_ROLLOUT.maxFailures,
      examples: [1],
    },
  },
};

const install = {
  type: ['object', 'null'],
  additionalProperties: false,
  'x-expected': 'a mapping {extras: [default], index_url: ..., find_links: ...}',
  description:
    'Install Ray by the tool: a node whose Python lacks ray_version gets a venv under its storage path with ray[extras]==ray_version from pip.',
  examples: [{ extras: ['default'], index_url: 'https://pypi.example.com/simple' }],
  properties: {
    extras: {
      type: ['array', 'null'],
      'x-expected': 'a list of Ray extras, e.g. [default, serve]',
      description: "Ray's pip extras to install (ray[default] gives the dashboard and the job API).",
      examples: [['default', 'serve']],
      items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', 'x-expected': 'an extra name such as default' },
    },
    index_url: {
      type: 'string',
      pattern: '^(https?|file)://\\S+$',
      'x-expected': 'a URL (pip --index-url)',
      description:
        'A package index for pip (--index-url), for a mirror; a plain-http host is passed as --trusted-host, with a warning (whoever is on the network path can then replace what is installed).',
      examples: ['https://pypi.example.com/simple'],
    },
    find_links: {
      type: 'string',
      pattern: '^((https?|file)://)?\\S+$',
      'x-expected': 'a URL or a directory on the nodes (pip --find-links)',
      description:
        'A wheel directory or URL (--find-links), for sites without internet: without index_url, nothing else is asked (--no-index).',
      examples: ['http://10.0.0.1/wheels'],
    },
    requirements: {
      type: 'string',
      minLength: 1,
      pattern: '^[^\\0]+$',
      'x-expected': 'a requirements file beside the config, e.g. requirements.txt',
      description:
        "The cluster's packages: a requirements file (relative to the config file), one pinned package a line (name==version, --hash allowed), installed next to Ray on every node.",
      examples: ['requirements.txt'],
    },
    packages: {
      type: ['array', 'null'],
      'x-expected': 'a list of packages, e.g. [tabulate==0.9.0, toolz]',
      description:
        "The cluster's packages as a short list (name or name==version), installed next to Ray on every node.",
      examples: [['tabulate==0.9.0', 'toolz==1.0.0']],
      items: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*(\\[[A-Za-z0-9._,-]+\\])?(==[A-Za-z0-9.+!_-]+)?$',
        'x-expected': 'a package name, optionally ==version, e.g. tabulate==0.9.0',
      },
    },
    timeout: {
      type: 'integer',
      minimum: 10,
      'x-expected': 'seconds, e.g. 900',
      description: 'Seconds one node may spend installing (Ray and the packages) before the install fails.',
      default: DEFAULT_INSTALL_TIMEOUT_SEC,
      examples: [900],
    },
  },
};

// GCS fault tolerance: Ray's own, with a Redis the user runs (Ray never starts one itself).
const gcsFaultTolerance = {
  type: 'object',
  required: ['redis_address'],
  additionalProperties: false,
  'x-expected': 'a mapping {redis_address: "host:port", redis_password: "${REDIS_PASSWORD}"}',
  description:
    "Ray's GCS fault tolerance: the head keeps the cluster's state in this Redis, so a restart of the head (a crash, a reboot, a head-only change) keeps the workers, their actors and running tasks. Without it, every worker restarts with the head and running work is lost. `stop` deletes the cluster's keys from this Redis after the head is stopped, so a later start begins afresh.",
  examples: [{ redis_address: 'redis.internal:6379', redis_password: '${RAY_REDIS_PASSWORD}' }],
  properties: {
    redis_address: {
      type: 'string',
      minLength: 1,
      'x-expected': 'host:port of a Redis the head reaches, e.g. "redis.internal:6379"',
      description:
        'The Redis as the head reaches it, host:port (IPv6 in brackets: "[2001:db8::7]:6379"); checked from the head before anything starts. Each cluster keeps its state under its own namespace there (ray_spec.cluster_name).',
      examples: ['redis.internal:6379'],
    },
    redis_password: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a non-empty string, best a ${ENV_NAME} reference',
      description:
        'The Redis password (requirepass): write ${ENV_NAME} and map a secret into that variable; never logged, kept on the head in a file only its login user reads. Leave out for a Redis without a password.',
      examples: ['${RAY_REDIS_PASSWORD}'],
    },
  },
};

// Ray's own rotation (its RAY_ROTATION_* environment at `ray start`), given to every node's Ray.
const logRotation = {
  type: ['object', 'null'],
  additionalProperties: false,
  'x-expected': 'a mapping {max_bytes: 512MiB, backup_count: 5}',
  description:
    "How Ray rotates each of its log files on every node (Ray's RAY_ROTATION_MAX_BYTES and RAY_ROTATION_BACKUP_COUNT, given to Ray at each start and restart): a file that reaches max_bytes is renamed to .1 and a new one begun, and backup_count such copies are kept, so one log takes at most max_bytes × (backup_count + 1). Ray then rotates the workers' stdout and stderr files too. A change restarts the nodes (Ray reads it when it starts).",
  examples: [{ max_bytes: '100MiB', backup_count: 3 }],
  properties: {
    max_bytes: {
      type: ['integer', 'string'],
      minimum: 1024,
      pattern: LOG_SIZE_PATTERN,
      'x-expected': 'a size of at least 1024 bytes: a whole number of bytes, or e.g. "100MiB", "512MB", "1GiB"',
      description:
        'The size at which Ray rotates a log file: bytes, or a whole number with KB, MB, GB (1000-based) or KiB, MiB, GiB (1024-based).',
      default: logSizeWords(DEFAULT_LOG_ROTATION.maxBytes),
      examples: ['100MiB'],
    },
    backup_count: {
      ...count,
      minimum: 1,
      maximum: 1000,
      'x-expected': 'a whole number of rotated copies per log file, from 1 to 1000',
      description: 'How many rotated copies (.1, .2, ...) Ray keeps of each log file; older ones are deleted.',
      default: DEFAULT_LOG_ROTATION.backupCount,
      examples: [3],
    },
  },
};

const node = {
  type: 'object',
  required: ['ssh_url', 'name', 'role'],
  additionalProperties: false,
  'x-expected': 'a mapping describing one machine (ssh_url, name, role, ...)',
  description: 'One machine of the cluster, reached over SSH.',
  examples: [{ ssh_url: 'prod-server-1:22', name: 'ray-head-prod', role: 'head' }],
  properties: {
    ssh_url: {
      type: 'string',
      minLength: 1,
      'x-expected': 'host:port, e.g. "prod-server-1:22"',
      description:
        'The SSH address, host:port (port 22 when left out); IPv6 in brackets and quotes: "[2001:db8::5]:22".',
      examples: ['prod-server-1:22'],
    },
    name: {
      ...name,
      description:
        'The node name, unique in the cluster; shown in every message and set as the Ray label nokube.io/node.',
      examples: ['ray-worker-1'],
    },
    role: {
      enum: ['head', 'worker'],
      'x-expected': 'head or worker',
      description: 'head (exactly one: runs the GCS, the dashboard and the Ray Client server) or worker.',
      examples: ['worker'],
    },
    ray_config: rayConfig,
    storage,
    users: {
      type: ['array', 'null'],
      'x-expected': 'a list of users (`- userid: ...` items)',
      description:
        'Logins to try, in order; when left out, the default user (ssh-user input / --user) with the supplied keys or ssh-agent.',
      examples: [[{ userid: 'deploy', password: '${RAY_PROD_PASSWORD}' }]],
      items: user,
    },
    host_key: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a public key line ("ssh-ed25519 AAAA...") or a "SHA256:..." fingerprint',
      description:
        "The node's pinned SSH host key (from ssh-keyscan) or its SHA256 fingerprint; otherwise known_hosts is used.",
      examples: ['SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU'],
    },
    proxy_jump: {
      type: 'string',
      minLength: 1,
      'x-expected': 'jump hosts as for ssh -J: "[user@]host[:port]", comma-separated (at most 3), or "none"',
      description:
        'Jump host(s) for this node, as ssh -J: [user@]host[:port], a comma-separated chain of up to 3; "none" = reached directly.',
      examples: ['admin@bastion.example.com:22'],
    },
  },
};

export const configSchema = {
  type: 'object',
  required: ['nodes'],
  additionalProperties: false,
  description: 'A Ray cluster deployed by nokube over SSH: one head and any number of workers.',
  // `x-worker-defaults: &worker_defaults ...`: a place for anchors to share, as docker compose has.
  patternProperties: {
    '^x-': {
      description:
        'Free for YAML anchors to share settings, e.g. x-worker-defaults: &worker_defaults {role: worker, ...} with <<: *worker_defaults in each worker; not read otherwise.',
      examples: [{ role: 'worker', ray_config: { num_cpus: 4 } }],
    },
  },
  'x-expected': 'a mapping with `nodes:` and optionally `ray_spec:`',
  properties: {
    ray_spec: {
      type: ['object', 'null'],
      additionalProperties: false,
      'x-expected': 'a mapping of cluster-wide settings (dashboard_port, max_workers, ...)',
      description: 'Cluster-wide settings.',
      examples: [{ dashboard_port: 8265, max_workers: 10 }],
      properties: {
        dashboard_port: {
          ...port,
          description: "The dashboard port for the whole cluster; the head's ray_config.dashboard_port wins.",
          default: DEFAULT_DASHBOARD_PORT,
          examples: [8265],
        },
        max_workers: {
          ...count,
          'x-expected': 'a non-negative integer (the most worker nodes allowed)',
          description: 'The most worker nodes the config may list; more is an error. No bound when left out.',
          examples: [10],
        },
        cluster_name: {
          ...name,
          description: "The cluster's name: scopes its state, lock and stop, so two clusters can share machines.",
          default: DEFAULT_CLUSTER_NAME,
          examples: ['prod'],
        },
        ray_version: {
          type: 'string',
          pattern: '^\\d+\\.\\d+(\\.\\d+)?([.+-]?[A-Za-z0-9]+)*$',
          'x-expected': 'a Ray version such as "2.9.3" (in quotes)',
          description: 'The exact Ray version every node must run (checked before anything starts); in quotes.',
          examples: ['2.60.0'],
        },
        python: {
          type: 'string',
          pattern: '^[A-Za-z0-9_./+@][A-Za-z0-9_./+@-]*$',
          'x-expected':
            'one interpreter path or command, e.g. /opt/venv/bin/python3 or python3 (no spaces, quotes or shell characters)',
          description: 'The Python interpreter on the nodes that has Ray installed.',
          default: DEFAULT_PYTHON,
          examples: ['/opt/venv/bin/python3'],
        },
        proxy_jump: {
          type: 'string',
          minLength: 1,
          'x-expected': 'jump hosts as for ssh -J: "[user@]host[:port]", comma-separated (at most 3), or "none"',
          description:
            'Jump host(s) for every node, as ssh -J: [user@]host[:port], a comma-separated chain of up to 3 hops.',
          examples: ['admin@bastion.example.com:22'],
        },
        ports,
        rollout,
        install,
        gcs_fault_tolerance: gcsFaultTolerance,
        restart: {
          type: 'string',
          enum: ['always', 'never'],
          'x-expected': 'always or never',
          description:
            "Supervision of each node's Ray: always = a supervisor started by start (systemd unit, else an @reboot crontab line, else detached) starts Ray again when one of its processes dies or the machine reboots, with backoff; never = no supervision (removed from nodes that had it).",
          default: DEFAULT_RESTART,
          examples: ['never'],
        },
        keep_sessions: {
          ...count,
          maximum: 1000,
          'x-expected': 'a whole number of old Ray session directories to keep (0 to 1000)',
          description:
            "How many of Ray's old session directories (logs of earlier runs) each node keeps besides the live one; older ones are removed at each start and restart.",
          default: DEFAULT_KEEP_SESSIONS,
          examples: [10],
        },
        log_rotation: logRotation,
        keep_dead_worker_logs: {
          ...count,
          maximum: 1000000,
          'x-expected': 'a whole number of exited workers whose logs are kept (0 to 1000000)',
          description:
            "How many exited Ray workers' logs (each one's worker-*.out/.err, python-core-worker-*.log and their rotated copies) each node keeps in the live session; the supervisor removes the oldest beyond that every minute, never a file a running process has open. Ray itself keeps them until the session ends. Needs restart: always (without a supervisor nothing removes them).",
          default: DEFAULT_KEEP_DEAD_WORKER_LOGS,
          examples: [200],
        },
      },
    },
    nodes: {
      type: 'array',
      minItems: 1,
      'x-expected': 'a list of nodes (`- ssh_url: ...` items), at least one',
      description: 'The machines of the cluster: exactly one with role: head, any number of workers.',
      examples: [[{ ssh_url: 'head-server:22', name: 'ray-head', role: 'head' }]],
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
  redis_address: 'the Redis the head keeps its state in, e.g. redis_address: "redis.internal:6379"',
};

/** The keys allowed in each kind of mapping, by the path pattern of that mapping. */
export const KEYS_BY_SECTION: Record<string, readonly string[]> = {
  '': Object.keys(configSchema.properties),
  ray_spec: Object.keys(configSchema.properties.ray_spec.properties),
  'ray_spec.rollout': Object.keys(rollout.properties),
  'ray_spec.install': Object.keys(install.properties),
  'ray_spec.ports': Object.keys(ports.properties),
  'ray_spec.gcs_fault_tolerance': Object.keys(gcsFaultTolerance.properties),
  'ray_spec.log_rotation': Object.keys(logRotation.properties),
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
