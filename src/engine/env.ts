// `env`: what a terminal needs to use the cluster with Ray's own tools where its ports are reachable:
// the job API address (RAY_ADDRESS), the Ray Client address, the auth mode and, asked for, the token.
// One round trip to the head, which says whether the cluster runs and reads its token file.
import { clientPort, hostForUrl } from './decisions/desired';
import { gcsAddress, jobAddress } from './steps/ray-env';
import { fail, type PhaseClock } from './steps/run-result';
import type { ClusterSession } from './steps/session';
import { HeadUnavailable, headAccess } from './steps/head-access';
import type { RunResult } from './types';

export async function clusterEnv(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster, options } = session;
  let access;
  try {
    access = await headAccess(session, { withToken: !!options.withToken, clock: { clock, phase: 'env' } });
  } catch (err) {
    if (!(err instanceof HeadUnavailable)) throw err;
    result.status = err.status;
    fail(result, err.error);
    return;
  }
  result.status = 'healthy';
  result.env = {
    jobAddress: jobAddress(session),
    clientAddress: `ray://${hostForUrl(cluster.head.host)}:${clientPort(cluster.head)}`,
    gcsAddress: gcsAddress(session),
    authMode: access.authMode,
    ...(access.token ? { token: access.token } : {}),
  };
}
