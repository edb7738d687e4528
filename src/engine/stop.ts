// `stop`: workers in parallel, then the head; only this cluster's Ray processes; verified gone.
import type { NodeSpec } from '../config/types';
import { mapLimit } from './steps/concurrency';
import { drainNode } from './steps/drain';
import { NODE_LIMITS } from './decisions/defaults';
import { takeLock } from './steps/lock';
import { fail, type PhaseClock } from './steps/run-result';
import { nodeError, type ClusterSession } from './steps/session';
import { headStatus } from './steps/inspect';
import { gcsStateCleared } from './decisions/gcs-fault-tolerance';
import type { NodeReport, RunResult } from './types';

export async function stopCluster(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster, options } = session;
  await clock.phase('connect', () => session.connect(cluster.nodes));
  // the same lock as start: a stop never runs into the middle of a deploy
  const head = session.handle(cluster.head);
  const held = head.lib ? await clock.phase('lock', () => takeLock(session, head)) : undefined;
  if (held?.error && !head.answered) {
    fail(result, held.error);
    result.status = 'unknown';
    return;
  }
  if (!held?.lock)
    options.reporter.warn(
      held?.error
        ? `the deploy lock cannot be taken on the head ${cluster.head.name} (${held.error.message}): stopping the nodes without it`
        : `the head ${cluster.head.name} is unreachable: stopping the other nodes without the deploy lock`,
    );
  try {
    await stopAll(session, result, clock);
  } finally {
    await held?.lock?.release();
  }
}

async function stopAll(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster, options } = session;
  const reports = new Map<string, NodeReport>(result.nodes.map((n) => [n.name, n]));
  // the head's view names each worker's Ray node id, which the drain needs
  const head = session.handle(cluster.head);
  const drain = !options.noDrain && cluster.rollout.drainTimeoutSec > 0 && cluster.workers.length > 0;
  const view = drain && head.lib ? await headStatus(session, head).catch(() => undefined) : undefined;

  const stopNode = async (node: NodeSpec) => {
    const h = session.handle(node);
    const report = reports.get(node.name)!;
    if (!h.lib) {
      report.state = 'unreachable';
      report.reachable = false;
      report.error = h.error?.message;
      fail(result, { ...h.error!, message: `not stopped: ${h.error?.message}` });
      return;
    }
    if (view && node.role === 'worker') await drainNode(session, node, view, result.warnings);
    const t0 = Date.now();
    try {
      // the head also deletes the cluster's state from the Redis of its GCS (ray_spec.gcs_fault_tolerance),
      // as KubeRay does when a RayCluster is deleted: a later start would otherwise recover this cluster
      const answer = await h.lib.stop({
        grace_sec: NODE_LIMITS.stopGraceSec,
        ...(node.role === 'head' ? { clear_gcs_state: { timeout_sec: NODE_LIMITS.redisSec } } : {}),
      });
      if (!answer.ok || answer.remaining > 0) {
        throw Object.assign(new Error(answer.error ?? `${answer.remaining} Ray process(es) still running`), {
          hint: answer.hint,
        });
      }
      const cleared = gcsStateCleared(answer.gcs_state);
      if (cleared.warning) result.warnings.push(cleared.warning);
      report.state = 'stopped';
      report.reachable = true;
      report.rayRunning = false;
      options.reporter.node(
        node.name,
        (answer.was_running
          ? `stopped (${answer.killed} ${answer.killed === 1 ? 'process' : 'processes'})`
          : 'was not running') + cleared.words,
        Date.now() - t0,
      );
    } catch (err) {
      const e = nodeError(node, err);
      report.state = 'failed';
      report.error = e.message;
      fail(result, e);
      options.reporter.node(node.name, `stop failed: ${e.message}`, Date.now() - t0);
    }
  };

  await clock.phase('stop workers', () => mapLimit(cluster.workers, options.concurrency, stopNode));
  await clock.phase('stop head', () => stopNode(cluster.head));
  result.nodes = [...reports.values()];
  const states = result.nodes.map((n) => n.state);
  result.status = states.every((s) => s === 'stopped') ? 'stopped' : states[0] === 'stopped' ? 'down' : 'unknown';
  result.aliveNodes = 0;
}
