// GCS fault tolerance (pure): what the head and the workers are started with, what a head restart
// does to the cluster, and the head's Redis check turned into a preflight problem.
import { resolveCredential } from '../../config';
import type { ClusterConfig } from '../../config/types';
import type { AppliedSpec, GcsStateCleared, ProbeAnswer } from '../../remote/types';
import type { RunError } from '../types';

/**
 * How long a worker's raylet waits for the head's GCS before it exits (Ray's
 * gcs_rpc_server_reconnect_timeout_s, 60 s by default). With a Redis the head comes back with the same
 * cluster, so workers wait longer than a head restart or a reboot takes; without one the head comes back
 * as a new cluster the old raylet never joins, so it should give up soon and be restarted by its
 * supervisor into the new head (within 90 s of the head's death, the head's own restart included).
 */
export const WORKER_WAIT_WITH_REDIS_SEC = 300;
export const WORKER_WAIT_WITHOUT_REDIS_SEC = 30;

/** What an unplanned head restart (a crash, a reboot) does, in the plan's words. */
export function headRestartWords(cluster: ClusterConfig): string {
  return cluster.gcsFaultTolerance
    ? `workers and actors kept (GCS fault tolerance: the head's state is in Redis at ${cluster.gcsFaultTolerance.redisAddress})`
    : 'every worker restarts, running work is lost (no ray_spec.gcs_fault_tolerance)';
}

/**
 * The Redis password as the head gets it: `${NAME}` read from `env`. Undefined without one, or when a
 * variable is unset (validate reported it; an offline plan does not need it).
 */
export function redisPassword(cluster: ClusterConfig, env: Record<string, string | undefined>): string | undefined {
  const written = cluster.gcsFaultTolerance?.redisPassword;
  if (written === undefined) return undefined;
  try {
    return resolveCredential(written, env, {
      node: cluster.head.name,
      field: 'ray_spec.gcs_fault_tolerance.redis_password',
    });
  } catch {
    return undefined;
  }
}

/** The head's probe found the Redis silent or refusing: nothing may start (the head would not). */
export function redisProblem(cluster: ClusterConfig, headProbe: ProbeAnswer | undefined): RunError | undefined {
  const redis = headProbe?.redis;
  if (!redis || redis.ok) return undefined;
  return {
    node: cluster.head.name,
    host: cluster.head.sshUrl,
    message: redis.error ?? `the Redis at ${redis.address} does not answer`,
    ...(redis.hint ? { hint: redis.hint } : {}),
  };
}

/**
 * Whether the workers outlive a (re)start of the head: it comes back on the Redis and namespace it ran
 * with, so its GCS finds the cluster as it was and the running workers reconnect to it.
 */
export function workersOutliveHead(
  wantedHead: AppliedSpec | undefined,
  headBefore: AppliedSpec | null | undefined,
): boolean {
  const want = wantedHead?.redis;
  const had = headBefore?.redis;
  return !!want && !!had && want.address === had.address && want.namespace === had.namespace;
}

/**
 * What the head's `stop` did to the cluster's state in Redis: words for its progress line, and a
 * warning when the Redis did not answer (the stop itself succeeded; the next start would recover it).
 */
export function gcsStateCleared(state: GcsStateCleared | undefined): { words: string; warning?: string } {
  if (!state) return { words: '' };
  if (state.error)
    return {
      words: `; the cluster's GCS state in Redis ${state.address} was not cleared`,
      warning: `the cluster's GCS state was not cleared from Redis (namespace ${state.namespace}), so the next start would recover the stopped cluster: ${state.error}${state.hint ? `; ${state.hint}` : ''}`,
    };
  const keys = state.keys ?? 0;
  return {
    words: `; cleared the cluster's GCS state in Redis ${state.address} (namespace ${state.namespace}, ${keys} ${keys === 1 ? 'key' : 'keys'})`,
  };
}
