// One run's connections: one SSH connection and one remote_lib client per node, opened in
// parallel (bounded by `concurrency`), reused by every step, closed once at the end.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ClusterConfig, NodeSpec } from '../config/types';
import { RemoteLib, loadRemoteLib, type RemoteLibSource } from '../remote/client';
import { connectNode, mapLimit, type NodeConnection } from '../ssh';
import type { RunError, RunOptions } from './types';

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

export class ClusterSession {
  readonly handles = new Map<string, NodeHandle>();
  private readonly libSource: RemoteLibSource;

  constructor(
    readonly cluster: ClusterConfig,
    readonly options: RunOptions,
  ) {
    this.libSource = loadRemoteLib(options.remoteLibDir);
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
        h.conn = await connectNode(node, ssh, { env, reporter });
        h.ip = await addressOf(node.host);
        h.lib = new RemoteLib(h.conn, this.libSource, {
          cluster: this.cluster.clusterName,
          storage: node.storage.path,
          python: this.cluster.python,
          timeoutMs: this.options.timeoutSec * 1000,
          debug: (m) => reporter.debug(`[${node.name}] ${m}`),
        });
        h.connectMs = Date.now() - t0;
        reporter.node(node.name, `connected as ${h.conn.user}`, h.connectMs);
      } catch (err) {
        h.error = nodeError(node, err);
        reporter.node(node.name, `cannot connect: ${h.error.message}`, Date.now() - t0);
      }
    });
    return nodes.map((n) => this.handle(n));
  }

  close(): void {
    for (const h of this.handles.values()) h.conn?.close();
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
