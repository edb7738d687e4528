// The head as a running cluster's entry point: reached over SSH, Ray of this cluster running there,
// and the token its Ray checks (token auth), read on the head in the same round trip. The one way the
// commands that talk to Ray for the user (env, dashboard) get at the head and its token.
import { clientPort, dashboardPort, gcsPort, rayArgs } from '../decisions/desired';
import type { PhaseClock } from './run-result';
import { nodeError, type ClusterSession, type NodeHandle, type SessionOptions } from './session';
import type { RunError } from '../types';

export interface HeadAccess {
  head: NodeHandle;
  /** How the head's Ray checks callers. */
  authMode: 'token' | 'disabled';
  /** The cluster's token (registered as a secret), when asked for; undefined without token auth. */
  token?: string;
  /** The head's Ray ports (on the head). */
  ports: { dashboard: number; client: number; gcs: number };
  /** The address Ray binds to on the head (its node_ip_address): Ray Client listens only there. */
  nodeIp: string;
  /** Where the dashboard is reached on the head: loopback when it listens on every interface. */
  dashboardHost: string;
}

/** Why the head cannot be used: unreachable (`down`), or no Ray of this cluster runs there (`stopped`). */
export class HeadUnavailable extends Error {
  constructor(
    readonly error: RunError,
    readonly status: 'down' | 'stopped' = 'down',
  ) {
    super(error.message);
    this.name = 'HeadUnavailable';
  }
}

export interface HeadAccessOptions {
  /** Read the token too (it is then registered as a secret). */
  withToken?: boolean;
  /** Times the connect and the head's answer (as the phase named `phase`) in a run. */
  clock?: { clock: PhaseClock; phase: string };
}

/** Connects the head (if needed), checks that Ray of this cluster runs there, and reads its token. */
export async function headAccess(
  session: ClusterSession<SessionOptions>,
  opts: HeadAccessOptions = {},
): Promise<HeadAccess> {
  const { cluster, options } = session;
  const node = cluster.head;
  const timed = <T>(name: string, work: () => Promise<T>) => (opts.clock ? opts.clock.clock.phase(name, work) : work());
  const [head] = await timed('connect', () => session.connect([node]));
  if (!head.lib)
    throw new HeadUnavailable(head.error ?? { node: node.name, host: node.sshUrl, message: 'not connected' });
  let answer;
  try {
    answer = await timed(opts.clock?.phase ?? 'head', () =>
      head.lib!.rayEnv({ python: cluster.python ?? null, with_token: !!opts.withToken }),
    );
  } catch (err) {
    throw new HeadUnavailable(nodeError(node, err));
  }
  if (!answer.ok) {
    throw new HeadUnavailable({ node: node.name, host: node.sshUrl, message: answer.error ?? 'cannot read the head' });
  }
  if (!answer.running) {
    throw new HeadUnavailable(
      {
        node: node.name,
        host: node.sshUrl,
        message: `cluster "${cluster.clusterName}" is down or stopped: its Ray is not running on the head ${node.name} (${node.sshUrl})`,
        hint: `start it with: nokube ray start --config ${cluster.file}`,
      },
      'stopped',
    );
  }
  const token = answer.auth_token ?? undefined;
  if (token) options.reporter.secret(token);
  const nodeIp = rayArgs(cluster, node, head.ip).node_ip_address as string;
  const bound = answer.dashboard_host ?? '0.0.0.0';
  return {
    head,
    authMode: answer.auth === 'token' ? 'token' : 'disabled',
    ...(token ? { token } : {}),
    ports: { dashboard: dashboardPort(cluster), client: clientPort(node), gcs: gcsPort(node) },
    nodeIp,
    dashboardHost: bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound,
  };
}
