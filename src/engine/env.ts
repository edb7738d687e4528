// `env`: what a terminal needs to use the cluster with Ray's own tools where its ports are reachable:
// the job API address (RAY_ADDRESS), the Ray Client address, the auth mode and, asked for, the token.
// One round trip to the head, which says whether the cluster runs and reads its token file.
import { clientPort, hostForUrl } from './desired';
import { connectHead, gcsAddress, jobAddress } from './ray-env';
import { fail, type PhaseClock } from './result';
import type { ClusterSession } from './session';
import type { RunResult } from './types';

export async function clusterEnv(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster, options } = session;
  const head = await connectHead(session, result, clock);
  if (!head) return;
  const answer = await clock.phase('env', () =>
    head.lib!.rayEnv({ python: cluster.python ?? null, with_token: !!options.withToken }),
  );
  if (!answer.ok || !answer.running) {
    result.status = answer.ok ? 'stopped' : 'down';
    fail(result, {
      node: cluster.head.name,
      host: cluster.head.sshUrl,
      message: answer.ok
        ? `Ray of cluster "${cluster.clusterName}" is not running on the head`
        : (answer.error ?? 'cannot read the head'),
      hint: `start it: nokube ray start --config ${cluster.file}`,
    });
    return;
  }
  if (answer.auth_token) options.reporter.secret(answer.auth_token);
  result.status = 'healthy';
  result.env = {
    jobAddress: jobAddress(session),
    clientAddress: `ray://${hostForUrl(cluster.head.host)}:${clientPort(cluster.head)}`,
    gcsAddress: gcsAddress(session),
    authMode: answer.auth === 'token' ? 'token' : 'disabled',
    ...(answer.auth_token ? { token: answer.auth_token } : {}),
  };
}
