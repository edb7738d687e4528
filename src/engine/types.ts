// What a run takes and what it returns. Both front ends (Action, CLI) build RunOptions
// and render RunResult; the engine never knows which one called it.
import type { ClusterConfig, Diagnostic } from '../config/types';
import type { SshOptions } from '../ssh/types';

export type Command = 'validate' | 'plan' | 'start' | 'status' | 'stop';

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
   * A phase of the run begins (connect, preflight, head, workers, wait, ...); the function returned
   * ends it. The Action shows each phase as a collapsible group of the workflow log.
   */
  phase?(name: string): () => void;
}

export interface RunOptions {
  command: Command;
  configPath: string;
  ssh: SshOptions;
  /** Max nodes worked on at once. */
  concurrency: number;
  /** Seconds per node for one command. */
  timeoutSec: number;
  /** Environment for `${NAME}` references in credentials. */
  env: Record<string, string | undefined>;
  /** Directory holding nokube_remote.py. */
  remoteLibDir: string;
  reporter: Reporter;
  /** For an offline plan: the previously applied / base-branch config text (undefined = none). */
  previousConfigText?: string;
  /** plan only: do not contact nodes even if credentials are present. */
  offline?: boolean;
  /**
   * plan on a pull request: `host_key` pins that differ from `previousConfigText` (the base) are not
   * trusted, since the pull request wrote them.
   */
  distrustChangedPins?: boolean;
  /** start/stop: seconds to wait for another run's deploy lock before failing (default 0: fail fast). */
  waitLockSec?: number;
  /** Who deploys, as the front end knows it ("run 123" in a workflow), named in the deploy lock. */
  deployer?: string;
}

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
  diagnostics: Diagnostic[];
  errors: RunError[];
  warnings: string[];
  timings: Timing[];
  /** Per node, when each of its phases ran (commands that contact nodes). */
  timeline?: NodeTimeline[];
  /** The parsed config, when it was valid (renderers use it for tables). */
  config?: ClusterConfig;
}
