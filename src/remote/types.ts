// Typed requests and answers of remote_lib's verbs (see remote_lib/PROTOCOL.md). Every request also
// carries `cluster` and `storage`, added by the client. remote_lib fills in no default: a value it
// needs is required here, and a request without it is answered with an error naming the field.

/** What a node was started with; stored on the node and compared for drift. */
export interface AppliedSpec {
  cluster: string;
  node: string;
  role: 'head' | 'worker';
  ray: Record<string, unknown>;
  /** Workers: the head's GCS address they joined. */
  head_address?: string;
  python?: string;
  /** Head, with GCS fault tolerance: the Redis its GCS keeps the cluster's state in, under `namespace`. */
  redis?: { address: string; namespace: string };
  /** Workers: seconds a raylet waits for a restarting head (Ray's gcs_rpc_server_reconnect_timeout_s). */
  gcs_reconnect_timeout_s?: number;
  /** ray_spec.log_rotation, given to Ray as RAY_ROTATION_MAX_BYTES / _BACKUP_COUNT (absent: Ray's defaults). */
  log_rotation?: { max_bytes: number; backup_count: number };
}

/** A head port remote_lib checks before `ray start` (the probe says whether it is free). */
export interface PortRequest {
  name: string;
  port: number;
}

/** The head's two ports a status needs to ask its dashboard (or, failing that, its GCS). */
export interface HeadPorts {
  dashboard_port: number;
  gcs_port: number;
}

export interface ProbeRequest {
  role: 'head' | 'worker';
  ports: PortRequest[];
  python: string | null;
  ray_version: string | null;
  /** Head only: also return the head's status answer when it runs. */
  view?: HeadPorts;
  /** Head only: take the deploy lock first, in the same call (the answer's `lock`). */
  lock?: LockRequest;
  /** Also read the node's GPUs (`init`: nvidia-smi takes a while, no deploy needs it). */
  gpus?: boolean;
  /** Head only, with GCS fault tolerance: check that this Redis answers (AUTH + PING). */
  redis?: { address: string; password: string | null };
}

export interface StartRequest {
  role: 'head' | 'worker';
  restart: boolean;
  /** Seconds `ray start` may take. */
  timeout_sec: number;
  /** Seconds between SIGTERM and SIGKILL when a running Ray is stopped first. */
  grace_sec: number;
  /** Worker: seconds its TCP connect to the head's GCS may take before the start is refused. */
  connect_timeout_sec: number;
  /** Stored as applied.json; its `ray` holds the `ray start` arguments (the only copy sent). */
  applied: AppliedSpec;
  python: string | null;
  head_address: string | null;
  auth_token: string | null;
  /** Head with GCS fault tolerance: the Redis password (kept on the head in a 0600 file, never in an argv). */
  redis_password?: string | null;
  /**
   * ray_spec.restart, keep_sessions and keep_dead_worker_logs: `always` starts Ray through the node's
   * supervisor, which also removes the oldest exited workers' logs beyond keep_dead_worker_logs.
   */
  supervise: { restart: 'always' | 'never'; keep_sessions: number; keep_dead_worker_logs: number };
}

/** `supervise`: `pause` before a drain (a drained raylet's exit is then not restarted), or `state`. */
export interface SuperviseRequest {
  action: 'pause' | 'state';
}

/** How the node keeps its supervisor running: systemd (system or user unit), cron (@reboot), detached alone. */
export type Launcher = 'systemd' | 'systemd-user' | 'cron' | 'detached';

/** A death of one of the node's Ray daemons, or why the supervisor started Ray again (`reason`). */
export interface ExitRecord {
  /** Epoch seconds. */
  at: number;
  /** raylet, gcs_server, dashboard, log_monitor, ..., `ray start`, or `node` (a reboot). */
  process: string;
  exit_code?: number | null;
  signal?: string;
  reason?: string;
  log_tail?: string;
}

/** The node's supervisor as its state file (state/supervisor.json) says. */
export interface SupervisionReport {
  launcher: Launcher | null;
  state: 'starting' | 'running' | 'backoff' | 'crash-loop' | 'paused' | 'stopped' | 'failed' | 'gone' | null;
  alive: boolean;
  paused: boolean;
  /** Restarts since the last deploy. */
  restarts: number | null;
  restart_seq?: number | null;
  last_restart: ExitRecord | null;
  last_exit: ExitRecord | null;
  /** Failed tries in a row. */
  tries: number | null;
  /** With `seen_by`: restarts since the last status of that caller. */
  new_restarts?: number;
}

export interface SuperviseAnswer extends RemoteAnswer {
  supervision: SupervisionReport | null;
  launcher?: Launcher;
}

/**
 * `wait` (head only): the head looks at its dashboard every 100 ms itself and answers once the alive
 * set differs from the view with `view_key` `key` (none yet: the first table it gets), or after `ms`.
 */
export interface ViewWait {
  key: string | null;
  ms: number;
}

export type StatusRequest = (
  | ({ role: 'head'; python: string | null; fallback?: false; wait?: ViewWait; usage?: boolean } & HeadPorts)
  | { role: 'worker'; python: string | null }
) & {
  /** Who looks (cli, action): the answer's supervision.new_restarts counts the restarts since its last look. */
  seen_by?: string;
};

export interface StopRequest {
  /** Seconds between SIGTERM and SIGKILL. */
  grace_sec: number;
  /**
   * Head of a cluster with GCS fault tolerance (`nokube ray stop`): once its Ray is gone, delete the
   * cluster's keys from the Redis it ran with, each Redis call bounded by `timeout_sec`.
   */
  clear_gcs_state?: { timeout_sec: number };
}

export interface LockRequest {
  owner: string;
  /** Seconds the lease lasts unless renewed. */
  ttl_sec: number;
}

export interface UnlockRequest {
  owner: string;
  force?: boolean;
  /** The nodes this start applied, recorded on the head. */
  members?: MembersRecord;
}

/** `drain` (head): one node drained through the GCS, waited on up to `deadline_sec`. */
export interface DrainRequest extends HeadPorts {
  python: string | null;
  node_id: string;
  deadline_sec: number;
}

export interface InstallRequest {
  /** The interpreter the venv is made with (ray_spec.python, else python3). */
  base_python: string;
  ray_version: string;
  extras: string[];
  index_url: string | null;
  find_links: string | null;
  timeout_sec: number;
  /** ray_spec.install's packages, installed with Ray in one resolve. */
  requirements: PackageLine[];
}

/** One package the nodes install: `line` is what the installer is given (with its --hash options). */
export interface PackageLine {
  name: string;
  version?: string;
  line: string;
}

/** `packages`: the cluster's packages in the node's Ray environment. */
export interface PackagesRequest {
  python: string | null;
  requirements: PackageLine[];
  extras: string[];
}

/** A package not as required: missing, another version, or another copy of it elsewhere on sys.path. */
export interface PackageDrift {
  name: string;
  want?: string | null;
  have: string | null;
  state: 'missing' | 'version' | 'shadowed';
  locations?: string[];
}

/** `imports` (head, status --deep): a job that imports the cluster's packages on every alive node. */
export interface ImportsRequest {
  python: string | null;
  gcs_port: number;
  requirements: PackageLine[];
  timeout_sec: number;
}

export interface ImportsAnswer extends RemoteAnswer {
  nodes?: { name?: string | null; node_ip?: string; python: string; problems: string[] }[];
}

/** A required version outside the range one of Ray's own dependencies pins. */
export interface PinConflict {
  name: string;
  version: string;
  ray_needs: string;
  by: string;
}

export interface PackagesAnswer extends RemoteAnswer {
  /** false: no Ray found on the node (yet): nothing else is answered. */
  ray: boolean;
  python?: string;
  ray_version?: string;
  /** The environment is a venv nokube made under the storage path (else the operator's). */
  managed?: boolean;
  drift?: PackageDrift[];
  conflicts?: PinConflict[];
  /** Whether Ray's pins could be read (packaging available there). */
  pins_checked?: boolean;
  /** Ray's own dependencies, transitively: what Ray's processes import. */
  ray_deps?: string[];
  /** The node's uv, when it has one. */
  uv?: string | null;
}

/** `job` (head) but submit, which streams (client.stream). */
export interface JobActionRequest {
  action: 'status' | 'logs' | 'stop' | 'list';
  job_id?: string | null;
  /** Lines of a failed or stopped job's log returned with its status. */
  tail?: number;
  /** Where the head's dashboard (Ray's job API) listens. */
  dashboard_port: number;
  /** Seconds to wait for the job to end once Ray accepted the stop (`stop` needs it). */
  wait_sec?: number;
}

export interface RemoteAnswer {
  ok: boolean;
  error?: string;
  hint?: string;
}

export interface PortCheck {
  name: string;
  port: number;
  in_use: boolean;
  by_this_cluster: boolean;
}

export interface ProbeAnswer extends RemoteAnswer {
  hostname: string;
  user: string;
  /** `unsafe`: another user could write it, or it is /, /tmp, /var/tmp, /dev/shm or the home itself. */
  storage: { path: string; writable: boolean; error?: string; unsafe?: boolean };
  python: { path: string; version: string };
  ray: { version: string; python: string; ray_bin?: string; token_auth?: boolean } | null;
  ray_error?: string;
  /** Head, when the probe asked: whether the Redis of GCS fault tolerance answered, and if not, why. */
  redis?: { address: string; ok: boolean; error?: string; hint?: string | null };
  cpus: number;
  memory_bytes: number;
  shm_bytes: number;
  ports: PortCheck[];
  running: boolean;
  /** Whether this cluster's raylet runs on the node (absent from older libraries). */
  raylet?: boolean;
  applied: AppliedSpec | null;
  /** While running: the Ray version its processes were started with. */
  running_ray_version?: string | null;
  /**
   * While running: whether Ray was started with its interpreter first on PATH (a job's `python` is
   * Ray's), read from the raylet's environment; `known: false` when it cannot be told.
   */
  running_python_first?: RunningPythonFirst;
  /** Head only: nodes the last `start` applied (for `stop` actions on dropped nodes). */
  members?: MembersRecord | null;
  /**
   * Head only, when token auth is set up: the cluster's token (masked by the engine): the one it runs
   * with, or, stopped, the one its next start reuses.
   */
  auth_token?: string | null;
  /** Head only, running, when the probe asked for `view`: the head's `status` answer. */
  view?: StatusAnswer;
  /** Head only, when the probe asked for `lock`; held by another run, the answer has nothing else. */
  lock?: LockAnswer;
  /** When the probe asked for `gpus`: what nvidia-smi (else /proc/driver/nvidia) lists; source null = none. */
  gpus?: { gpus: GpuInfo[]; source: 'nvidia-smi' | '/proc/driver/nvidia' | null };
  /** This cluster's supervisor on the node (null: never supervised; absent from older libraries). */
  supervision?: SupervisionReport | null;
  /** The launcher a supervised start would use on this node. */
  launcher?: Launcher;
}

export interface GpuInfo {
  name: string;
  /** From nvidia-smi only. */
  memory_bytes?: number;
}

export interface RunningPythonFirst {
  known: boolean;
  first?: boolean;
  /** Ray's interpreter. */
  python?: string;
  /** The `python` the running Ray's PATH finds first (null: none). */
  found?: string | null;
  /** Started with the SSH session's variables (an older nokube): Ray's `bash -c` then reads ~/.bashrc. */
  ssh_session?: boolean;
}

/** `state/members.json` on the head, written by the engine after a successful start. */
export interface MembersRecord {
  cluster: string;
  nodes: ClusterMember[];
}

export interface ClusterMember {
  name: string;
  role: 'head' | 'worker';
  ssh_url: string;
  user?: string;
  storage?: string | null;
}

export interface StartAnswer extends RemoteAnswer {
  node_id?: string;
  ray_version?: string;
  auth_token?: string | null;
  auth?: string;
  /** How long `ray start` itself ran on the node (absent from older libraries). */
  ray_start_ms?: number;
  log_tail?: string;
  /** The launcher the node's supervisor runs under (null: restart never). */
  launcher?: Launcher | null;
  /** The launcher wanted could not be set up (the supervisor runs detached instead). */
  warning?: string;
}

export interface ViewNode {
  node_id: string;
  node_ip: string;
  alive: boolean;
  name?: string;
  resources: Record<string, number>;
  labels: Record<string, string>;
}

export interface StatusAnswer extends RemoteAnswer {
  running: boolean;
  /** Whether this cluster's raylet runs on the node (absent from older libraries). */
  raylet?: boolean;
  applied: AppliedSpec | null;
  ray_version?: string;
  python_version?: string;
  node_id?: string;
  cluster?: ViewNode[];
  /** Where `cluster` came from: the dashboard's state API, or `ray.nodes()` when the dashboard did not answer. */
  cluster_source?: 'dashboard' | 'ray.nodes';
  /** With `cluster` from the dashboard: a digest of its alive node IDs (absent from older libraries). */
  view_key?: string;
  /** Head, when asked with `usage`: what the cluster is doing, as Ray's autoscaler reports it. */
  usage?: UsageAnswer;
  supervision?: SupervisionReport | null;
}

/** `[used, total]` of one resource. */
export type UsedTotal = [number, number];

/** Resources one task, actor or bundle asks for, and how many ask so. */
export interface DemandBundle {
  resources: Record<string, number>;
  count: number;
}

/** The head's `usage` (remote_lib's usage.py): Ray's autoscaler report, or why there is none. */
export type UsageAnswer =
  | {
      known: true;
      /** Seconds since the epoch, when Ray's autoscaler wrote the report. */
      time?: number | null;
      total: Record<string, UsedTotal>;
      /** Per node, keyed by node ID (Ray 2.60's autoscaler) or by the node's IP address (older Ray). */
      by_node: Record<string, Record<string, UsedTotal>>;
      /** Tasks and actors waiting for resources. */
      pending: DemandBundle[];
      pending_groups: { bundles: DemandBundle[]; strategy: string; count: number }[];
      /** ray.autoscaler.sdk.request_resources(). */
      requested: DemandBundle[];
    }
  | { known: false; why: string };

export interface InstallAnswer extends RemoteAnswer {
  /** false: a complete venv with this Ray was already there. */
  installed: boolean;
  /** The venv's interpreter, from now on the node's Ray. */
  python?: string;
  install_ms?: number;
  /** On failure: the command that failed and the last lines of its output. */
  command?: string;
  log_tail?: string;
  /** On failure: the package the installer could not find. */
  package?: string | null;
  installer?: 'uv' | 'pip';
  /** The packages that were not as required before this install. */
  changed?: PackageDrift[];
}

export interface DrainAnswer extends RemoteAnswer {
  /** Whether Ray accepted the drain request (a preemption drain is always accepted by Ray 2.60). */
  accepted: boolean;
  /** Ray's rejection reason, when not accepted. */
  message?: string;
  /** The node left the cluster (its raylet exits once idle) before the deadline. */
  drained: boolean;
  waited_ms: number;
  /** At the deadline: tasks still RUNNING there (null when the state API could not tell). */
  running_tasks?: number | null;
}

export interface StopAnswer extends RemoteAnswer {
  /** The supervision this stop removed first (null: there was none). */
  supervision_removed?: Launcher | null;
  was_running: boolean;
  killed: number;
  remaining: number;
  /** With clear_gcs_state, when the head ran with a Redis: what was deleted there, or why not. */
  gcs_state?: GcsStateCleared;
}

/** The cluster's keys deleted from the Redis of its GCS (`keys`), or the Redis's problem (`error`). */
export interface GcsStateCleared {
  address: string;
  namespace: string;
  keys?: number;
  error?: string;
  hint?: string | null;
}

export interface LockAnswer extends RemoteAnswer {
  acquired: boolean;
  holder?: { owner: string; since: string | number };
  /** A lock this call replaced because its holder is provably gone (its SSH session ended). */
  replaced_stale?: { owner: string; since: string | number; reason?: string };
  /** Acquired: the head's clock (epoch seconds), whether no lock was there, and its last release. */
  now?: number;
  was_free?: boolean;
  released_at?: number | null;
}

/** `ray_env`: what running a command "in the node's Ray environment" means there. */
export interface RayEnvAnswer extends RemoteAnswer {
  python: string;
  bin_dir: string;
  ray_version?: string | null;
  auth: 'token' | 'none';
  /** The token file on the node (mode 0600), under token auth. */
  token_path: string | null;
  running: boolean;
  env: Record<string, string>;
  dashboard_port?: number | null;
  gcs_port?: number | null;
  /** Where `start` bound the head's dashboard (runtime.json), while it runs. */
  dashboard_host?: string | null;
  /** Only when asked (`with_token`); the engine masks it. */
  auth_token?: string | null;
}

/** A Ray job as Ray's job API reports it (times in ms since the epoch). */
export interface JobRecord {
  job_id: string;
  status: 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED' | string;
  message?: string | null;
  start_time?: number | null;
  end_time?: number | null;
  entrypoint?: string | null;
  error_type?: string | null;
}

/** `job` answers (per action: `job`, `jobs`, `logs`, `stopped`, `log_tail`). */
export interface JobAnswer extends RemoteAnswer {
  job?: JobRecord;
  jobs?: JobRecord[];
  logs?: string;
  stopped?: boolean;
  log_tail?: string;
  not_found?: boolean;
  cluster_down?: boolean;
  rejected?: boolean;
}

/** `logs`: what to pack, and the bounds of the pack. */
export interface LogsRequest {
  role: 'head' | 'worker';
  python: string | null;
  /** Only files written in the last this many seconds (null: all). */
  since_sec: number | null;
  /** Bytes of log text in the archive. */
  max_bytes: number;
  /** Bytes kept of one file (its newest part). */
  file_max_bytes: number;
}

/** `logs`: the archive the node packed (a temporary file under its storage) and what it holds. */
export interface LogsAnswer extends RemoteAnswer {
  archive: string;
  files: string[];
  bytes: number;
  cut: string[];
  omitted: string[];
  key_lines?: string[];
  session?: string | null;
}

/** `listen`: holds the ports open (every interface) until `expect` connections came per port, or `deadline_ms`. */
export interface ListenRequest {
  ports: PortRequest[];
  /** Connections awaited per port (by port number): the listener ends once all came. */
  expect: Record<string, number>;
  /** At most 30 s on the node, whatever is asked. */
  deadline_ms: number;
  family: 'inet' | 'inet6';
}

/** A port `listen` could not bind; `by_this_cluster`: Ray's own listener holds it (a running node). */
export interface BusyPort {
  name: string;
  port: number;
  error: string;
  by_this_cluster?: boolean;
}

/** The `ready` event `listen` streams once its ports are bound. */
export interface ListenReady {
  bound: number[];
  busy: BusyPort[];
}

export interface ListenAnswer extends RemoteAnswer, Partial<ListenReady> {
  /** Per port: the addresses that connected. */
  peers?: Record<string, string[]>;
  timed_out?: boolean;
}

export interface ReachTarget {
  address: string;
  port: number;
}

export type ReachOutcome = 'ok' | 'refused' | 'timeout' | 'unreachable' | 'error';

export interface ReachResult extends ReachTarget {
  result: ReachOutcome;
  ms: number;
  error?: string;
}

/** `reach`: TCP connects to every target at once, each within `timeout_ms`. */
export interface ReachRequest {
  targets: ReachTarget[];
  timeout_ms: number;
}

export interface ReachAnswer extends RemoteAnswer {
  results: ReachResult[];
}

/** `net_check` (head): a Ray program moves an object along each pair and knocks on the node table's ports. */
export interface NetCheckRequest {
  gcs_port: number;
  python: string | null;
  /** Node names (their nokube.io/node label). */
  nodes: string[];
  /** [holder, fetcher]: the fetcher pulls the object the holder put. */
  pairs: [string, string][];
  deadline_sec: number;
  object_bytes: number;
  port_timeout_sec: number;
}

export interface NetCheckPair {
  from: string;
  to: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface NetCheckPort {
  /** A node's name, or "(head's driver)". */
  from: string;
  to: string;
  ip: string;
  port: number;
  /** "node manager" | "object manager" */
  what: string;
  result: ReachOutcome;
  ms: number;
  error?: string;
}

export interface NetCheckAnswer extends RemoteAnswer {
  /** The configured nodes alive in the head's node table. */
  nodes: string[];
  pairs: NetCheckPair[];
  ports: NetCheckPort[];
}
