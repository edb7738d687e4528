// The last look of `start` at the nodes it started: a raylet that died right after `ray start`
// returned is still "alive" in the head's view for Ray's whole health-check window (tens of
// seconds), so the head's view alone would call such a cluster healthy. Each started node is asked
// itself (one round trip each, in parallel) whether its raylet still runs.
import { mapLimit } from './concurrency';
import { fail } from './run-result';
import type { ClusterSession } from './session';
import type { RunResult } from '../types';

export async function confirmStarted(session: ClusterSession, result: RunResult): Promise<void> {
  const { cluster, options } = session;
  const started = new Set(
    (result.plan ?? []).filter((p) => p.action === 'start' || p.action === 'restart').map((p) => p.node),
  );
  const check = result.nodes.filter((n) => started.has(n.name) && n.state === 'running');
  const gone = new Set<string>();
  await mapLimit(check, options.concurrency, async (n) => {
    const h = session.handle(cluster.nodes.find((x) => x.name === n.name)!);
    // this node's own raylet only (the head's view is what still lists it): asked as a worker would be
    const answer = await h.lib?.status({ role: 'worker', python: cluster.python ?? null }).catch(() => undefined);
    if (answer?.ok && answer.raylet === false) gone.add(n.name);
  });
  if (!gone.size) return;
  result.nodes = result.nodes.map((n) => {
    if (!gone.has(n.name)) return n;
    const error = `its raylet died just after it started (the head still lists it until Ray's health check notices)`;
    fail(result, {
      node: n.name,
      host: n.host,
      message: `${n.name}: ${error}`,
      hint: `read Ray's logs in the node's storage (ray/session_latest/logs/raylet.out, raylet.err) and run start again`,
    });
    options.reporter.node(n.name, 'failed: its raylet died just after it started');
    return { ...n, state: 'failed', error };
  });
  result.aliveNodes = result.nodes.filter((n) => n.state === 'running').length;
  result.status = gone.has(cluster.head.name) ? 'down' : 'degraded';
}
