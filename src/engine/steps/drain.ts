// Draining a worker before it stops (start's rolling restarts, stop): the head asks Ray's GCS to drain
// the node (the DrainNode request `ray drain-node` sends), so nothing new is scheduled there, and waits
// until its running tasks have finished and its raylet has left, or the deadline passes.
import type { NodeSpec } from '../../config/types';
import type { StatusAnswer } from '../../remote/types';
import { dashboardPort, gcsPort } from '../decisions/desired';
import { findInView } from '../decisions/health';
import type { ClusterSession } from './session';

/** Pauses the node's supervisor (ray_spec.restart); the start or stop that follows the drain replaces it. */
async function pauseSupervision(session: ClusterSession, node: NodeSpec): Promise<void> {
  const lib = session.handle(node).lib;
  if (!lib) return;
  const answer = await lib.supervise({ action: 'pause' }).catch((err: Error) => ({ ok: false, error: err.message }));
  if (!answer.ok) session.options.reporter.debug(`${node.name}: supervision not paused: ${answer.error ?? ''}`);
}

/** Beyond the drain deadline: the `import ray` of the drain request and one last look at the tasks. */
const DRAIN_CALL_SLACK_MS = 120_000;

export type DrainOutcome = 'drained' | 'deadline' | 'skipped' | 'failed';

/**
 * Drains `node` (up to ray_spec.rollout.drain_timeout seconds) and says so on the reporter.
 * Never throws: a drain that cannot be done is a warning, and the node is stopped anyway.
 */
export async function drainNode(
  session: ClusterSession,
  node: NodeSpec,
  view: StatusAnswer | undefined,
  warnings: string[],
): Promise<DrainOutcome> {
  const { cluster, options } = session;
  const deadline = cluster.rollout.drainTimeoutSec;
  const seen = findInView(view?.cluster ?? undefined, node.name);
  const head = session.handle(cluster.head);
  if (deadline === 0 || !seen?.alive || !head.lib) return 'skipped';
  const t0 = Date.now();
  options.reporter.node(node.name, `draining (running tasks get up to ${deadline} s to finish)`);
  // the node's supervisor first: a drained raylet leaves on purpose and must not be started again
  await pauseSupervision(session, node);
  try {
    const answer = await head.lib.drain(
      {
        python: cluster.python ?? null,
        node_id: seen.node_id,
        deadline_sec: deadline,
        dashboard_port: dashboardPort(cluster),
        gcs_port: gcsPort(cluster.head),
      },
      deadline * 1000 + DRAIN_CALL_SLACK_MS,
    );
    if (!answer.ok || !answer.accepted) throw new Error(answer.error ?? `Ray refused the drain: ${answer.message}`);
    const waited = `${(answer.waited_ms / 1000).toFixed(1)} s`;
    if (answer.drained) {
      options.reporter.node(node.name, `drained after ${waited}`, Date.now() - t0);
      return 'drained';
    }
    const tasks = answer.running_tasks ?? undefined;
    const still = tasks === undefined ? 'tasks possibly' : `${tasks} task${tasks === 1 ? '' : 's'}`;
    const message = `drain deadline reached (${deadline} s) with ${still} still running: stopping it`;
    options.reporter.node(node.name, message, Date.now() - t0);
    if (tasks !== 0) warnings.push(`${node.name}: ${message} (raise ray_spec.rollout.drain_timeout to wait longer)`);
    return 'deadline';
  } catch (err) {
    const message = `could not be drained (${(err as Error).message.split('\n')[0]}): stopped without draining`;
    options.reporter.node(node.name, message, Date.now() - t0);
    warnings.push(`${node.name} ${message}`);
    return 'failed';
  }
}
