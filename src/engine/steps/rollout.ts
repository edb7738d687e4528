// The rolling part of `start`: workers to restart go in batches of ray_spec.rollout.max_unavailable;
// each is drained, restarted, and the next batch begins only when the whole batch is alive again in
// the head's view with its configured resources. More than max_failures failed workers stop it.
import type { NodeSpec } from '../../config/types';
import type { StatusAnswer } from '../../remote/types';
import { batches, batchSize } from '../decisions/disruption';
import { drainNode } from './drain';
import { findInView, resourceMismatches } from '../decisions/health';
import { fail } from './run-result';
import type { ClusterSession } from './session';
import { headStatus, watchHeadView } from './inspect';
import type { RunResult } from '../types';

/**
 * Drains and restarts `workers` batch by batch. `restart` runs one node's `ray start` (and reports
 * its own failure). Returns the workers left untouched because the rollout stopped.
 */
export async function rollWorkers(
  session: ClusterSession,
  workers: NodeSpec[],
  firstView: StatusAnswer | undefined,
  restart: (node: NodeSpec) => Promise<boolean>,
  result: RunResult,
): Promise<NodeSpec[]> {
  const { cluster, options } = session;
  const { rollout } = cluster;
  const size = batchSize(rollout, cluster.workers.length);
  const all = batches(workers, size);
  let failures = 0;
  let view = firstView;
  for (const [i, batch] of all.entries()) {
    if (all.length > 1) {
      options.reporter.info(`rolling restart, batch ${i + 1} of ${all.length}: ${batch.map((n) => n.name).join(', ')}`);
    }
    const restarted: NodeSpec[] = [];
    await Promise.all(
      batch.map(async (node) => {
        await drainNode(session, node, view, result.warnings);
        if (await restart(node)) restarted.push(node);
        else failures += 1;
      }),
    );
    const late = await waitAlive(session, restarted, result);
    failures += late;
    if (failures > rollout.maxFailures) {
      const untouched = all.slice(i + 1).flat();
      if (untouched.length) {
        fail(result, {
          message: `the rollout stopped after ${failures} failed worker${failures === 1 ? '' : 's'} (ray_spec.rollout.max_failures is ${rollout.maxFailures}): ${untouched.map((n) => n.name).join(', ')} left as they were`,
          hint: 'fix the failed workers (see their errors), then run start again to continue the rollout',
        });
      }
      return untouched;
    }
    if (i + 1 < all.length) view = await headStatus(session, session.handle(cluster.head)).catch(() => undefined);
  }
  return [];
}

/** Polls the head's view until every node is alive with its configured resources; returns how many were not. */
async function waitAlive(session: ClusterSession, nodes: NodeSpec[], result: RunResult): Promise<number> {
  const { cluster, options } = session;
  if (!nodes.length) return 0;
  const head = session.handle(cluster.head);
  const t0 = Date.now();
  const deadline = t0 + options.timeoutSec * 1000;
  const waiting = new Map(nodes.map((n) => [n.name, n]));
  let last = '';
  const look = watchHeadView(session, head);
  for (;;) {
    const view = await look();
    for (const node of [...waiting.values()]) {
      const seen = findInView(view?.cluster ?? undefined, node.name);
      const mismatched = seen?.alive ? resourceMismatches(node, seen.resources) : ['not alive'];
      if (!mismatched.length) {
        waiting.delete(node.name);
        options.reporter.node(node.name, "alive again in the head's view", Date.now() - t0);
      } else last = mismatched.join(', ');
    }
    if (!waiting.size) return 0;
    if (Date.now() > deadline) break;
  }
  for (const node of waiting.values()) {
    fail(result, {
      node: node.name,
      host: node.sshUrl,
      message: `restarted, but not alive as configured in the head's view after ${options.timeoutSec}s (${last})`,
      hint: `check that ${node.host} can reach the head (firewall) and read Ray's logs in the node's storage (ray/session_latest/logs/raylet.err)`,
    });
  }
  return waiting.size;
}
