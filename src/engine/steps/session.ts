// One run's connections: one SSH connection and one remote_lib client per node, opened in
// parallel (bounded by `concurrency`), reused by every step, closed once at the end.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ClusterConfig, NodeSpec } from '../../config/types';
import { RemoteLib, loadRemoteLib, type RemoteLibSource } from '../../remote/client';
import { JumpHosts, connectNode, type NodeConnection } from '../../ssh';
import { mapLimit } from './concurrency';
import { sshTarget } from '../decisions/ssh-target';
import { ownExecution, type NodeExecution } from '../decisions/pull-request-execution';
import { TimelineRecorder } from './timeline';
import type { NodePhase, RunError, RunOptions, SessionOptions } from '../types';

export interface NodeHandle {
  node: NodeSpec;
  conn?: NodeConnection;
  lib?: RemoteLib;
  /** The address the node was reached at (default node_ip_address). */
  ip: string;
  error?: RunError;
  /** The node answered over SSH but a step on it failed (its storage, its interpreter). */
  answered?: boolean;
  connectMs?: number;
}

export type { SessionOptions } from '../types';

export class ClusterSession<O extends SessionOptions = RunOptions> {
  readonly handles = new Map<string, NodeHandle>();
  /** Per node, when each phase ran (RunResult.timeline). */
  readonly timeline = new TimelineRecorder();
  private readonly libSource: RemoteLibSource;
  /** Jump host connections, one per hop, shared by every node behind it. */
  private readonly jumps = new JumpHosts();
  /** What runs on each node when it is not the config's own (a pull request's live plan: the base's). */
  private executions?: Map<string, NodeExecution>;

  constructor(
    readonly cluster: ClusterConfig,
    readonly options: O,
  ) {
    this.libSource = loadRemoteLib(options.remoteLibDir);
  }

  /** Runs, on nodes connected from now on, what `executions` says instead of the config's own settings. */
  useExecutions(executions: Map<string, NodeExecution>): void {
    this.executions = executions;
  }

  /** The interpreter, Ray venv and storage path the remote library runs with on `node`. */
  execution(node: NodeSpec): NodeExecution {
    return this.executions?.get(node.name) ?? (this.executions ? {} : ownExecution(this.cluster, node));
  }

  handle(node: NodeSpec): NodeHandle {
    let h = this.handles.get(node.name);
    if (!h) {
      h = { node, ip: node.host };
      this.handles.set(node.name, h);
    }
    return h;
  }

  /**
   * Connects every node not yet connected; failures are kept on the handle, never thrown.
   * `override` changes SSH options for these nodes only (a removed node's recorded user).
   */
  async connect(nodes: NodeSpec[], override: Partial<RunOptions['ssh']> = {}): Promise<NodeHandle[]> {
    const { reporter, env } = this.options;
    const ssh = { ...this.options.ssh, ...override };
    await mapLimit(nodes, this.options.concurrency, async (node) => {
      const h = this.handle(node);
      if (h.conn || h.error) return;
      const t0 = Date.now();
      try {
        h.conn = await connectNode(sshTarget(node), ssh, { env, reporter, jumps: this.jumps });
        h.ip = await addressOf(h.conn.host); // after ~/.ssh/config's HostName
        const run = this.execution(node);
        h.lib = new RemoteLib(h.conn, this.libSource, {
          cluster: this.cluster.clusterName,
          storage: run.storage,
          python: run.python,
          timeoutMs: this.options.timeoutSec * 1000,
          rayVenv: run.rayVenv,
          debug: (m) => reporter.debug(`[${node.name}] ${m}`),
          timed: (what, a, b) => {
            const phase = this.phaseOf(what);
            if (phase) this.timeline.span(node.name, phase, a, b);
          },
        });
        h.connectMs = Date.now() - t0;
        this.timeline.span(node.name, 'connect', t0);
        reporter.node(node.name, `connected as ${h.conn.user}`, h.connectMs);
      } catch (err) {
        h.error = nodeError(node, err);
        this.timeline.span(node.name, 'connect', t0);
        reporter.node(node.name, `cannot connect: ${h.error.message}`, Date.now() - t0);
      }
    });
    return nodes.map((n) => this.handle(n));
  }

  /** The timeline phase of a remote_lib call; the head's status polls while starting are `alive`, drawn apart. */
  private phaseOf(what: string): NodePhase | undefined {
    const command = 'command' in this.options ? (this.options as { command?: string }).command : undefined;
    if (what === 'probe') return command === 'plan' ? 'inspect' : 'preflight';
    if (what === 'status') return command === 'status' ? 'status' : undefined;
    if (what === 'upload' || what === 'start' || what === 'stop') return what;
    return undefined; // lock, unlock
  }

  /** Fills in the address a node is reached at, without connecting it (RAY_ADDRESS for others). */
  async resolve(node: NodeSpec): Promise<void> {
    const h = this.handle(node);
    if (!h.conn) h.ip = await addressOf(node.host);
  }

  close(): void {
    for (const h of this.handles.values()) h.conn?.close();
    this.jumps.close();
  }
}

async function addressOf(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host)).address;
  } catch {
    return host;
  }
}

/** Any failure on a node, as the user should read it: which node, which host, what to do. */
export function nodeError(node: NodeSpec, err: unknown): RunError {
  const e = err as { message?: string; hint?: string };
  const message = e?.message ?? String(err);
  const hint = typeof e?.hint === 'string' ? e.hint : undefined;
  return { node: node.name, host: node.sshUrl, message, ...(hint ? { hint } : {}) };
}
