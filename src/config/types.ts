// The typed model of a ray-config.yaml, as the rest of the engine sees it.
// Every value keeps where it came from, so any later check can point at the user's line.
import type { RayNodeConfig } from './ray-keys';

export type { RayNodeConfig };

export type Role = 'head' | 'worker';

/** 1-based line and column in the config file. */
export interface SourcePos {
  line: number;
  col: number;
}

export type Severity = 'error' | 'warning';

/** One finding about the config: where, what was found, what is allowed. */
export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number;
  col: number;
  /** YAML path in the user's words, e.g. `nodes[1].ray_config.num_cpus`. */
  path: string;
  message: string;
  /** What to do about it ("did you mean ...", "allowed: head | worker"). */
  hint?: string;
  /** The node the finding is about, when there is one. */
  node?: string;
  /** A warning said once for several nodes (placed at the first): every node it applies to. */
  nodes?: string[];
}

/** A login identity for a node; credentials may hold `${NAME}` references, resolved at connect time. */
export interface UserSpec {
  userid: string;
  password?: string;
  /** A public key line: selects which supplied private key to use. */
  sshkey?: string;
  pos: SourcePos;
}

export interface StorageSpec {
  type: 'local';
  /** Absolute path; undefined means `~/.nokube/<cluster_name>` of the login user. */
  path?: string;
}

/** One hop of a ProxyJump chain: `[user@]host[:port]`. */
export interface JumpHop {
  /** The login user the hop names; else the run's default user. */
  user?: string;
  host: string;
  port: number;
}

export interface NodeSpec {
  name: string;
  role: Role;
  /** As written: "host:port". */
  sshUrl: string;
  /** Host name, IPv4, or IPv6 without brackets (an ssh config Host's HostName: see sshAlias). */
  host: string;
  /**
   * When ssh_url names a Host of ~/.ssh/config with a HostName: the name as written (what the SSH
   * part looks up), `host` being the HostName (what Ray and the user are given). Set by the engine.
   */
  sshAlias?: string;
  /** SSH port, 22 when omitted. */
  sshPort: number;
  ray: RayNodeConfig;
  storage: StorageSpec;
  /** Empty when the config has no `users` (then the default user and supplied keys / agent are used). */
  users: UserSpec[];
  /** Pinned host key ("ssh-ed25519 AAAA...") or "SHA256:..." fingerprint. */
  hostKey?: string;
  /**
   * Jump hosts to reach the node through, first hop first (`proxy_jump` of the node, else of
   * ray_spec). [] = connect directly ("none"); undefined = the run's default (--proxy-jump).
   */
  proxyJump?: JumpHop[];
  /** Index in `nodes`. */
  index: number;
  pos: SourcePos;
}

export interface ClusterConfig {
  /** Path of the config file as given by the user (used in every message). */
  file: string;
  /** `ray_spec.cluster_name`, default "default". Scopes state, lock and stop. */
  clusterName: string;
  /** `ray_spec.dashboard_port`, default 8265. */
  dashboardPort: number;
  /** `ray_spec.max_workers`, undefined = no bound. */
  maxWorkers?: number;
  /** `ray_spec.ray_version`: exact version every node must run. */
  rayVersion?: string;
  /** `ray_spec.python`: interpreter on the nodes. */
  python?: string;
  /** `ray_spec.rollout`, defaults filled in. */
  rollout: RolloutSpec;
  /** `ray_spec.install`: the tool installs Ray at `rayVersion` into a venv on each node. */
  install?: InstallSpec;
  /** `ray_spec.gcs_fault_tolerance`: the Redis the head keeps Ray's state in (a head restart keeps the workers). */
  gcsFaultTolerance?: GcsFaultToleranceSpec;
  /** `ray_spec.restart`: each node's Ray supervised (always, the default) or not (never). */
  restart: RestartPolicy;
  /** `ray_spec.keep_sessions`: old Ray session directories kept on each node besides the live one. */
  keepSessions: number;
  /** `ray_spec.log_rotation`: how Ray rotates each of its log files (its RAY_ROTATION_* environment). */
  logRotation: LogRotationSpec;
  /** `ray_spec.keep_dead_worker_logs`: exited workers whose log files each node keeps in the live session. */
  keepDeadWorkerLogs: number;
  nodes: NodeSpec[];
  head: NodeSpec;
  workers: NodeSpec[];
  /**
   * Where each key was written, by YAML path (`nodes[1].ray_config.num_cpus`, same spelling as
   * Diagnostic.path), so later findings (plan drift, preflight) can point at the user's line.
   */
  positions?: Record<string, SourcePos>;
}

export interface RolloutSpec {
  /** Seconds a worker's running tasks get to finish before it stops; 0 = no drain. */
  drainTimeoutSec: number;
  /** Workers drained and restarted at once: a count, or a percentage of the workers. */
  maxUnavailable: { count: number } | { percent: number };
  /** Failed workers tolerated before the rollout stops. */
  maxFailures: number;
}

export interface InstallSpec {
  extras: string[];
  indexUrl?: string;
  findLinks?: string;
  /** `requirements`: the file as written (relative to the config file). */
  requirementsFile?: string;
  /** The cluster's packages: the requirements file's lines (read by loadConfig), then `packages`. */
  requirements: PackageRequirement[];
  /** Seconds one node's install may take. */
  timeoutSec: number;
}

/** One package of ray_spec.install: its name, its pinned version when pinned, the line pip is given. */
export interface PackageRequirement {
  name: string;
  version?: string;
  line: string;
}

export const DEFAULT_INSTALL_TIMEOUT_SEC = 1800;

export interface GcsFaultToleranceSpec {
  /** host:port as written (IPv6 in brackets). */
  redisAddress: string;
  /** As written: may hold `${NAME}` references, resolved by the engine from the run's environment. */
  redisPassword?: string;
}
export type RestartPolicy = 'always' | 'never';
export const DEFAULT_RESTART: RestartPolicy = 'always';
export const DEFAULT_KEEP_SESSIONS = 5;

export interface LogRotationSpec {
  /** Bytes a log file reaches before Ray rotates it (RAY_ROTATION_MAX_BYTES). */
  maxBytes: number;
  /** Rotated copies Ray keeps of each log file (RAY_ROTATION_BACKUP_COUNT). */
  backupCount: number;
}
/** Ray's own defaults (512 MiB, 5 copies): what a node started without the setting ran with. */
export const DEFAULT_LOG_ROTATION: LogRotationSpec = { maxBytes: 512 * 1024 * 1024, backupCount: 5 };
export const DEFAULT_KEEP_DEAD_WORKER_LOGS = 1000;

export const DEFAULT_ROLLOUT: RolloutSpec = { drainTimeoutSec: 60, maxUnavailable: { count: 1 }, maxFailures: 0 };

export interface ParseResult {
  /** Present only when there are no errors. */
  config?: ClusterConfig;
  diagnostics: Diagnostic[];
}

export const DEFAULT_CLUSTER_NAME = 'default';
/** `ray_spec.python` when left out: the interpreter the nodes run (left unset in the model, named by the schema). */
export const DEFAULT_PYTHON = 'python3';
export { DEFAULT_CLIENT_PORT, DEFAULT_DASHBOARD_PORT, DEFAULT_GCS_PORT, RAY_MIN_OBJECT_STORE_MEMORY } from './ray-keys';
