// `status`: read-only. Every node says whether Ray runs there; the head says who is alive.
import { mapLimit } from './steps/concurrency';
import { assessCluster, type NodeObservation } from './decisions/health';
import { nodeSupervision, supervisionWarnings } from './decisions/supervision';
import type { PhaseClock } from './steps/run-result';
import { nodeError, type ClusterSession } from './steps/session';
import { headStatus, wantedSpecs } from './steps/inspect';
import type { RunResult } from './types';

export async function clusterStatus(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster, options } = session;
  const handles = await clock.phase('connect', () => session.connect(cluster.nodes));
  const observed = new Map<string, NodeObservation>();
  await clock.phase('status', () =>
    mapLimit(handles, options.concurrency, async (h) => {
      if (!h.lib) {
        observed.set(h.node.name, { reachable: false, error: h.error?.message });
        return;
      }
      try {
        const status =
          h.node.role === 'head'
            ? await headStatus(session, h, true, undefined, options.seenBy)
            : await h.lib.status({ role: 'worker', python: cluster.python ?? null, seen_by: options.seenBy });
        observed.set(h.node.name, { reachable: true, status, ...(status.ok ? {} : { error: status.error }) });
      } catch (err) {
        const e = nodeError(h.node, err);
        observed.set(h.node.name, { reachable: true, error: e.message });
      }
    }),
  );
  const assessment = assessCluster(cluster, wantedSpecs(session), observed);
  result.nodes = assessment.nodes;
  result.status = assessment.status;
  result.aliveNodes = assessment.alive;
  const supervisionNotes: string[] = [];
  for (const n of result.nodes) {
    const s = nodeSupervision(observed.get(n.name)?.status?.supervision);
    if (s) n.supervision = s;
    supervisionNotes.push(...supervisionWarnings(n.name, s));
  }
  for (const n of assessment.nodes) options.reporter.node(n.name, n.state + (n.error ? `: ${n.error}` : ''));
  for (const h of handles) if (h.error) result.errors.push(h.error);
  if (assessment.status !== 'healthy' && assessment.status !== 'stopped') {
    for (const p of assessment.problems) result.warnings.push(p);
  }
  result.warnings.push(...supervisionNotes);
  result.ok = result.errors.length === 0;
}
