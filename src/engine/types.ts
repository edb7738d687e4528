// What a run takes and what it returns. Both front ends (Action, CLI) build RunOptions
// and render RunResult; the engine never knows which one called it.
import type { ClusterConfig, Diagnostic } from '../config/types';
import type { SshOptions } from '../ssh/types';

/** The commands whose result is a RunResult. */
export type Command = 'validate' | 'plan' | 'start' | 'status' | 'stop' | 'job' | 'exec' | 'env' | 'check';

/**
 * Every command run() takes: the RunResult ones, and those whose result is their own (logs writes
 * an archive on disk, dashboard holds forwards open, init looks at hosts no config names yet).
 */
export type EngineCommand = Command | 'logs' | 'dashboard' | 'init';

export type ClusterStatus = 'healthy' | 'degraded' | 'down' | 'stopped' | 'unknown';

/** Where a node stands after (or during) a run. */
export type NodeState =
  | 'running' // Ray up on the node and, for workers, alive in the head's view
  | 'stopped' // reachable, no Ray of this cluster
  | 'drifted' // running, but not as configured
  | 'missing' // Ray process up but the head does not list it alive
  | 'unreachable' // SSH failed
  | 'failed' // a step on this node failed
  | 'not-started' // skipped because an earlier step failed
  | 'unknown'; // not looked at (offline plan, validate)

export type { PrivateKeySource, SshOptions } from '../ssh/types';

export interface Reporter {
  /** One line per node as it progresses. */
  node(name: string, message: string, elapsedMs?: number): void;
  info(message: string): void;
  warn(message: string): void;
  /** Only shown with NOKUBE_DEBUG=1 / runner debug mode. */
  debug(message: string): void;
  /** Registers a value that must never be printed (masked everywhere from now on). */
  secret(value: string): void;
  /**
   * Output of something run on the cluster (a job's log, a command's stdout/stderr), as it comes.
   * `node` names where it ran (exec); a front end without it falls back to `info`.
   */
  output?(text: string, stream: 'stdout' | 'stderr', node?: string): void;
  /**
   * A phase of the run begins (connect, preflight, head, workers, wait, ...); the function returned
   * ends it. The Action shows each phase as a collapsible group of the workflow log.
   */
  phase?(name: string): () => void;
}

export type JobAction = 'submit' | 'status' | 'logs' | 'stop' | 'list';

/** `job`: what to do with Ray jobs on the cluster. */
export interface JobRequest {
  action: JobAction;
  /** submit: the entrypoint's words (joined, each quoted, into one shell command) or one shell command. */
  entrypoint?: string[] | string;
  /** submit: local directory uploaded as Ray's working_dir. */
  workingDir?: string;
  /** submit: Ray runtime env, as JSON text. */
  runtimeEnvJson?: string;
  /** submit: return once submitted instead of following the job to its end. */
  noWait?: boolean;
  /** status | logs | stop */
  jobId?: string;
}

/** `exec`: a command run on chosen nodes in their Ray environment. */
export interface ExecRequest {
  /** The command's words: each reaches the node as one word. */
  argv: string[];
  /** Node names; empty with neither `all` nor `workers` = the head. */
  nodes: string[];
  all?: boolean;
  workers?: boolean;
}

export interface RunOptions<C extends EngineCommand = Command> {
  command: C;
  configPath: string;
  ssh: SshOptions;
  /** Max nodes worked on at once. */
  concurrency: number;
  /** Seconds per node for one command. */
  timeoutSec: number;
  /** Environment for `${NAME}` references in credentials. */
  env: Record<string, string | undefined>;
  /** An unset `${NAME}` is a warning, not an error (always so for an offline plan, which never logs in). */
  allowMissingEnv?: boolean;
  /** Directory holding nokube_remote.py. */
  remoteLibDir: string;
  reporter: Reporter;
  /** For an offline plan: the previously applied / base-branch config text (undefined = none). */
  previousConfigText?: string;
  /** plan only: do not contact nodes even if credentials are present. */
  offline?: boolean;
  /** start/stop: stop or restart workers without draining them first (as drain_timeout: 0). */
  noDrain?: boolean;
  job?: JobRequest;
  exec?: ExecRequest;
  logs?: LogsRequest;
  dashboard?: DashboardRequest;
  /** init: the hosts to look at and who decides about their new host keys. */
  init?: InitRequest;
  /** env: also fetch the token itself (it is masked everywhere but where the front end prints it). */
  withToken?: boolean;
  /** status: also run a job that imports the cluster's packages on every node. */
  deep?: boolean;
  /** Interrupts what follows a running thing (a job's log): the run ends, the thing keeps running. */
  signal?: AbortSignal;
  /** status: refresh until `signal` fires, each round handed to `onRound`. */
  watch?: StatusWatch;
  /**
   * plan on a pull request: `host_key` pins that differ from `previousConfigText` (the base) are not
   * trusted, since the pull request wrote them; nor are its interpreter, Ray venv and storage paths:
   * what runs on the nodes is the base's (decisions/pull-request-execution.ts).
   */
  distrustChangedPins?: boolean;
  /** start/stop: seconds to wait for another run's deploy lock before failing (default 0: fail fast). */
  waitLockSec?: number;
  /** Who deploys, as the front end knows it ("run 123" in a workflow), named in the deploy lock. */
  deployer?: string;
  /**
   * status: the front end that looks (cli, action); each node counts the restarts since that front
   * end's last status (a watermark on the node), so a scheduled check warns once per restart.
   */
  seenBy?: 'cli' | 'action';
}

/** What a session reads of a run's options: a run's, without the command (the door has chosen the story). */
export type SessionOptions = Omit<RunOptions, 'command'>;

export type PlanAction = 'start' | 'restart' | 'keep' | 'stop';

export interface Drift {
  field: string;
  from: string;
  to: string;
}

export interface PlanItem {
  node: string;
  role: 'head' | 'worker';
  host: string;
  action: PlanAction;
  /** For `restart`: the fields that differ. */
  drift: Drift[];
  /** Why, in a few words ("not running", "new node", "removed from config"). */
  reason: string;
  /** What the action does to running work: "keep", "restart (rolling)", "restart head: ...". */
  disruption?: string;
  /** The node could not be looked at: the item comes from the config diff alone. */
  liveStateUnknown?: boolean;
}

export interface RolloutOutcome {
  /** Restarted or started and alive again as configured. */
  done: string[];
  failed: string[];
  /** Planned to change, left as they were because the rollout stopped. */
  untouched: string[];
}

export interface NodeReport {
  name: string;
  role: 'head' | 'worker';
  host: string;
  state: NodeState;
  reachable?: boolean;
  rayRunning?: boolean;
  nodeId?: string;
  rayVersion?: string;
  pythonVersion?: string;
  resources?: Record<string, number>;
  /** What went wrong on this node, if anything. */
  error?: string;
  elapsedMs?: number;
  /** `status`: used / total of each of its resources, as Ray's autoscaler last reported them. */
  usage?: Record<string, ResourceUse>;
  /** `status`, `plan`: the node's supervisor (ray_spec.restart). */
  supervision?: NodeSupervision;
}

/** How much of one resource is in use, and how much there is (memory in bytes). */
export interface ResourceUse {
  used: number;
  total: number;
}

/** Work waiting for resources, as Ray's `ray status` lists it under "Pending Demands". */
export interface PendingDemand {
  /** Tasks and actors, placement groups, or `ray.autoscaler.sdk.request_resources()`. */
  kind: 'tasks' | 'placement-group' | 'requested';
  /** Resources one task/actor (or one bundle of a group) asks for, and how many ask so. */
  bundles: { resources: Record<string, number>; count: number }[];
  /** Placement groups: PACK, SPREAD, STRICT_PACK or STRICT_SPREAD. */
  strategy?: string;
  /** How many tasks/actors or groups wait so (at least: Ray caps its report). */
  count: number;
}

/** `status`: what the cluster is doing, as Ray's own `ray status` shows it. */
export interface ClusterUsage {
  /** false: this Ray does not say (too old, its dashboard did not answer, the head is down); see `why`. */
  known: boolean;
  why?: string;
  /** When Ray measured it (ms since the epoch): its autoscaler reports every few seconds. */
  measuredAt?: number;
  /** Used / total of each resource over the alive nodes. */
  total: Record<string, ResourceUse>;
  pending: PendingDemand[];
}

/** `status --watch`: look again every `everySec` over the same connections, until `signal` fires. */
export interface StatusWatch {
  everySec: number;
  /** Each round's result, as soon as it is complete. */
  onRound(result: RunResult): void;
}

/** One restart of a node's Ray by its supervisor: when, which process died, and why. */
export interface RestartRecord {
  /** ISO time. */
  at: string;
  process: string;
  /** "killed by SIGKILL", "exit code 1", "the node rebooted". */
  why: string;
  exitCode?: number | null;
  signal?: string;
}

export interface NodeSupervision {
  /** systemd, systemd-user, cron, detached; none when the node is not supervised. */
  launcher: string;
  /** running, backoff, crash-loop, paused, stopped, failed, gone; none when never supervised. */
  state: string;
  /** Restarts since the last deploy. */
  restarts: number;
  lastRestart?: RestartRecord;
  /** Crash loop: the last failed try and the end of its log. */
  lastExit?: RestartRecord & { logTail?: string };
  /** Restarts since the last status check of the same front end (cli or action). */
  newRestarts?: number;
}

export interface RunError {
  node?: string;
  host?: string;
  message: string;
  hint?: string;
}

export interface Timing {
  phase: string;
  ms: number;
}

/** One node's phases, as a timeline shows them. */
export type NodePhase = 'connect' | 'preflight' | 'inspect' | 'upload' | 'start' | 'alive' | 'status' | 'stop';

export interface PhaseSpan {
  phase: NodePhase;
  /** From the start of the run. */
  startMs: number;
  endMs: number;
}

export interface NodeTimeline {
  node: string;
  spans: PhaseSpan[];
  /** Of its `start` span, how long Ray's own `ray start` ran on the node (the rest is nokube's). */
  rayStartMs?: number;
}

export interface RunResult {
  command: Command;
  configPath: string;
  ok: boolean;
  status: ClusterStatus;
  clusterName?: string;
  /** host:gcs_port, for `ray start --address`. */
  headAddress?: string;
  /** ray://host:port */
  clientAddress?: string;
  dashboardUrl?: string;
  nodes: NodeReport[];
  aliveNodes: number;
  expectedNodes: number;
  plan?: PlanItem[];
  /** Number of plan actions that are not `keep`. */
  changes: number;
  /** The plan's disruption for the whole cluster, in one sentence. */
  disruption?: string;
  /** `plan`: what an unplanned restart of the head (a crash, a reboot) does to the cluster. */
  headRestart?: string;
  /** `start`: where a rolling apply left each changed node. */
  rollout?: RolloutOutcome;
  diagnostics: Diagnostic[];
  errors: RunError[];
  warnings: string[];
  timings: Timing[];
  /** Per node, when each of its phases ran (commands that contact nodes). */
  timeline?: NodeTimeline[];
  /** The parsed config, when it was valid (renderers use it for tables). */
  config?: ClusterConfig;
  /** job submit | status | stop: the job as Ray reports it at the end of the run. */
  job?: JobReport;
  /** job list */
  jobs?: JobReport[];
  /** job logs: the job's whole log so far. */
  jobLogs?: string;
  /** exec: one entry per chosen node. */
  exec?: ExecNodeResult[];
  /** env: what Ray's own tools need to use the cluster. */
  env?: ClusterEnv;
  /** check: objects moved between the nodes, and the node table's ports knocked on. */
  check?: ClusterCheck;
  /** The signal fired: the run stopped following (the job keeps running). */
  interrupted?: boolean;
  /** The command's own input was wrong (a job id that does not exist, bad JSON): exit 2. */
  badInput?: boolean;
  /** `status`: used / total resources and pending demand (per node in `nodes[].usage`). */
  usage?: ClusterUsage;
}

export interface JobReport {
  job_id: string;
  status: string;
  message: string | null;
  /** ms since the epoch, as Ray reports them */
  start_time: number | null;
  end_time: number | null;
  entrypoint?: string | null;
  /** Last lines of the log of a job that did not succeed. */
  log_tail?: string;
}

export interface ExecNodeResult {
  node: string;
  /** null when the command could not be started or the node could not be reached */
  exit_code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

export interface ClusterEnv {
  /** For RAY_ADDRESS: the job API (`ray job submit`), http://head:dashboard_port. */
  jobAddress: string;
  /** ray://head:port (Ray Client). */
  clientAddress: string;
  /** head:gcs_port (ray.init() on a node, `ray status`). */
  gcsAddress: string;
  authMode: 'token' | 'disabled';
  /** Only with `withToken` and token auth; masked by the reporter. */
  token?: string;
}

/** `check`: one node fetched the object another put (through Ray's object managers). */
export interface CheckPair {
  /** The node that held the object. */
  from: string;
  /** The node that fetched it. */
  to: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** `check`: a port of the head's node table, knocked on from a node (or the head's driver). */
export interface CheckPort {
  /** A node's name, or "(head's driver)". */
  from: string;
  to: string;
  address: string;
  port: number;
  /** "node manager" | "object manager" */
  what: string;
  result: 'ok' | 'refused' | 'timeout' | 'unreachable' | 'error';
  ms: number;
  error?: string;
}

export interface ClusterCheck {
  /** Configured nodes alive in the head's node table (the ones tested). */
  nodes: string[];
  /** Configured nodes the head's node table does not have alive (not tested). */
  missing: string[];
  pairs: CheckPair[];
  ports: CheckPort[];
  /** Size of the object each node put. */
  objectBytes: number;
  /** Each fetch's deadline. */
  deadlineSec: number;
}

/** `logs`: which nodes, how far back, and where to. */
export interface LogsRequest {
  /** Node names (`--node`); empty: every node. */
  nodes: string[];
  /** Only files written in the last this many seconds. */
  sinceSec?: number;
  /** A directory, or a path ending in `.tar.gz` / `.tgz` for one archive. */
  output: string;
  /** Bytes of log text per node (remote_lib's default when unset). */
  maxBytesPerNode?: number;
}

/** `logs`: one node's part of the bundle. */
export interface NodeLogs {
  name: string;
  role: 'head' | 'worker';
  host: string;
  ok: boolean;
  /** Members of the node's bundle, e.g. "ray/raylet.out", "facts.json". */
  files: string[];
  /** Log text kept (before compression). */
  bytes: number;
  /** "ray/raylet.out: kept the last N of M bytes". */
  cut: string[];
  /** Files left out because the node's budget was used up. */
  omitted: string[];
  /** Ray's error lines, "member: line", most useful logs first. */
  keyLines: string[];
  /** Ray's session directory name on the node (null: Ray never ran there). */
  session?: string | null;
  error?: RunError;
  elapsedMs?: number;
}

export interface LogsResult {
  ok: boolean;
  /** Bad usage or an invalid config (exit 2). */
  invalid: boolean;
  configPath: string;
  clusterName?: string;
  /** Absolute path of what was written (a directory or an archive). */
  output?: string;
  archive: boolean;
  nodes: NodeLogs[];
  diagnostics: Diagnostic[];
  errors: RunError[];
  timings: Timing[];
}

/** `dashboard`: the local ports to listen on. */
export interface DashboardRequest {
  /** Local port of the dashboard. */
  port: number;
  /** Local port of Ray Client. */
  clientPort: number;
}

/** The open forwards, until close() or until the head's connection is lost (`ended`). */
export interface DashboardForward {
  dashboardUrl: string;
  /** The dashboard's one-time URL: opening it gives that browser the cookie the forward asks for. */
  openUrl: string;
  /** `name=value` of that cookie, for scripts (a Cookie header); it is as good as the token while the forward runs. */
  cookie: string;
  clientAddress: string;
  /** The head's Ray version, as its dashboard reports it through the forward. */
  rayVersion?: string;
  /** Token auth: a local 0600 file with the token, and the env Ray Client needs to use it. */
  tokenFile?: string;
  clientEnv: Record<string, string>;
  /** Resolves when the forwards stop by themselves: the SSH connection to the head was lost. */
  ended: Promise<RunError>;
  close(): Promise<void>;
  /** Removes the token file at once, synchronously: for a process `exit` hook, where nothing async runs. */
  removeTokenFile(): void;
}

export interface DashboardResult {
  ok: boolean;
  invalid: boolean;
  diagnostics: Diagnostic[];
  errors: RunError[];
  forward?: DashboardForward;
  /** Connect + check + bind. */
  openMs: number;
}

// `firewall` (engine/firewall.ts): the TCP ports each node must accept, and from whom.
export interface FirewallRule {
  /** First and last TCP port (equal for one port). */
  ports: [number, number];
  /** What listens there, and its ray_config key(s). */
  what: string;
  /** Who connects: the other nodes of the cluster, or the deployer and Ray's users. */
  from: 'nodes' | 'deployer';
  /** Pinned in the config (or ssh_url), Ray's fixed default, or a range Ray's random choice falls in. */
  known: 'config' | 'default' | 'random';
}

export interface NodeFirewall {
  node: string;
  role: 'head' | 'worker';
  /** The address Ray listens on (node_ip_address, else the host of ssh_url). */
  address: string;
  /** The other nodes, whose addresses the `nodes` rules allow. */
  peers: { node: string; address: string }[];
  rules: FirewallRule[];
}

export interface FirewallPlan {
  cluster: string;
  /** Where the deployer and users connect from (--deployer); undefined = from anywhere. */
  deployer?: string;
  nodes: NodeFirewall[];
  /** ray_config port keys some node leaves to Ray's random choice: pin them for narrower rules. */
  unpinned: string[];
  /** Ports the head also listens on that no node needs (its Prometheus metrics): for a monitoring host only. */
  headMetricsPorts: [number, number];
  /** Where unpinned ports fall: Ray's default worker range, and Linux's ephemeral ports for the others. */
  randomRanges: { workers: [number, number]; others: [number, number] };
}

// `init` (engine/init.ts): a first config from a list of hosts, each connected to and looked at.
/** One host the user listed, named as the first config will name it. */
export interface InitHost {
  name: string;
  role: 'head' | 'worker';
  /** As the user wrote it: "alice@10.0.0.5:2222", "gpu-1" (an ~/.ssh/config Host). */
  input: string;
  /** As written (an ssh config alias stays an alias: it goes into ssh_url so) and its port. */
  host: string;
  port: number;
  /** The `user@` the user wrote, if any. */
  user?: string;
}

/** A host key nothing is on record for, as the front end asks the user about it. */
export interface HostKeyQuestion {
  node: string;
  /** host:port as connected to (after ~/.ssh/config's HostName). */
  address: string;
  type: string;
  fingerprint: string;
}

export interface InitRequest {
  hosts: InitHost[];
  /**
   * Decides whether to trust a new host key (a prompt, or --accept-new). Called one question at a time;
   * a changed or revoked key is refused without asking.
   */
  trustHostKey(question: HostKeyQuestion): Promise<boolean>;
}

export interface InitHostKey {
  type: string;
  fingerprint: string;
  /** "host ssh-ed25519 AAAA...", for a known_hosts file. */
  knownHostsLine: string;
  /** Accepted in this run (true) or already on record (known_hosts, ~/.ssh/config's UserKnownHostsFile). */
  isNew: boolean;
}

/** What `init` read on a host (remote_lib's probe). */
export interface HostFacts {
  hostname: string;
  cpus: number;
  memoryBytes: number | null;
  shmBytes: number | null;
  gpus: { name: string; memoryBytes?: number }[];
  /** Where the GPUs were read from; null: no NVIDIA GPU found. */
  gpuSource: string | null;
  python: { path: string; version: string };
  /** null: no Ray found (`rayProblem` says what was looked at). */
  ray: { version: string; python: string } | null;
  rayProblem?: string;
  /** Head ports already taken on the host (by something else than a cluster of this name). */
  portsInUse: { name: string; port: number }[];
}

export interface InitNode extends InitHost {
  ok: boolean;
  /** The login user the connection got in as. */
  login?: string;
  hostKey?: InitHostKey;
  facts?: HostFacts;
  /** The user said no to its host key (or could not be asked). */
  keyRefused?: boolean;
  error?: RunError;
  /** The node's ray_config, as init proposes it (key order kept). */
  rayConfig: Record<string, number>;
}

/** ray_spec as init proposes it: a Ray version to pin and, when hosts lack it or disagree, install it. */
export interface InitRaySpec {
  rayVersion?: string;
  install: boolean;
  /** Why, in a few words ("every host has Ray 2.60.0", "nkh3 has no Ray"). */
  reason: string;
}

export interface InitResult {
  ok: boolean;
  nodes: InitNode[];
  raySpec: InitRaySpec;
  errors: RunError[];
  warnings: string[];
  elapsedMs: number;
}
