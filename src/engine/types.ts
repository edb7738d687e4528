// What a run takes and what it returns. Both front ends (Action, CLI) build RunOptions
// and render RunResult; the engine never knows which one called it.
import type { ClusterConfig, Diagnostic } from '../config/types';
import type { SshOptions } from '../ssh/types';

/** The commands whose result is a RunResult. */
export type Command = 'validate' | 'plan' | 'start' | 'status' | 'stop' | 'job' | 'exec' | 'env';

/**
 * Every command run() takes: the RunResult ones, and the two whose result is their own (logs writes
 * an archive on disk, dashboard holds forwards open).
 */
export type EngineCommand = Command | 'logs' | 'dashboard';

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
  /** env: also fetch the token itself (it is masked everywhere but where the front end prints it). */
  withToken?: boolean;
  /** Interrupts what follows a running thing (a job's log): the run ends, the thing keeps running. */
  signal?: AbortSignal;
  /**
   * plan on a pull request: `host_key` pins that differ from `previousConfigText` (the base) are not
   * trusted, since the pull request wrote them.
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
  /** `status`, `plan`: the node's supervisor (ray_spec.restart). */
  supervision?: NodeSupervision;
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
  /** The signal fired: the run stopped following (the job keeps running). */
  interrupted?: boolean;
  /** The command's own input was wrong (a job id that does not exist, bad JSON): exit 2. */
  badInput?: boolean;
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
