// The head as a running cluster's entry point: reached over SSH, Ray running there, and the token its
// Ray checks (token auth), read on the head. Shared by the commands that talk to Ray for the user.
import type { AccessOptions } from './cluster-access';
import { clientPort, dashboardPort, gcsPort, rayArgs } from './desired';
import { nodeError, type ClusterSession, type NodeHandle } from './session';
import type { RunError } from './types';

export interface HeadAccess {
  head: NodeHandle;
  /** The cluster's token (registered as a secret); undefined without token auth. */
  token?: string;
  /** The head's Ray ports (on the head). */
  ports: { dashboard: number; client: number; gcs: number };
  /** The address Ray binds to on the head (its node_ip_address): Ray Client listens only there. */
  nodeIp: string;
}

/** Why the head cannot be used: unreachable, or no Ray of this cluster runs there. */
export class HeadUnavailable extends Error {
  constructor(readonly error: RunError) {
    super(error.message);
    this.name = 'HeadUnavailable';
  }
}

/** Connects the head (if needed), checks that Ray of this cluster runs there, and reads its token. */
export async function headAccess(session: ClusterSession<AccessOptions>): Promise<HeadAccess> {
  const { cluster, options } = session;
  const node = cluster.head;
  const [head] = await session.connect([node]);
  if (!head.lib)
    throw new HeadUnavailable(head.error ?? { node: node.name, host: node.sshUrl, message: 'not connected' });
  let probe;
  try {
    probe = await head.lib.probe({ role: 'head', python: cluster.python ?? null, ray_version: null, ports: [] });
  } catch (err) {
    throw new HeadUnavailable(nodeError(node, err));
  }
  if (!probe.running) {
    throw new HeadUnavailable({
      node: node.name,
      host: node.sshUrl,
      message: `cluster "${cluster.clusterName}" is down or stopped: no Ray of it runs on the head ${node.name} (${node.sshUrl})`,
      hint: `start it with: nokube ray start --config ${cluster.file}`,
    });
  }
  const token = probe.auth_token ?? undefined;
  if (token) options.reporter.secret(token);
  return {
    head,
    ...(token ? { token } : {}),
    ports: { dashboard: dashboardPort(cluster), client: clientPort(node), gcs: gcsPort(node) },
    nodeIp: rayArgs(cluster, node, head.ip).node_ip_address as string,
  };
}
