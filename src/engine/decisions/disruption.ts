// How disruptive a plan is, per node and for the cluster, in the words a reviewer reads before merging
// (pure). A worker restart is rolling (drained, in batches); a head restart loses the cluster's jobs.
import type { RolloutSpec } from '../../config/types';
import type { PlanItem } from '../types';

export const HEAD_RESTART = 'restart head: running jobs and actors are lost, every worker follows';
/** A stopped head with GCS fault tolerance: its state is in Redis, the running workers rejoin it. */
export const HEAD_START_KEEPING_WORKERS = 'start head: back on its Redis, the running workers and their actors rejoin';
/** With GCS fault tolerance (the head back on the Redis it ran with): the workers stay up. */
export const HEAD_RESTART_KEEPING_WORKERS =
  "restart head: workers and their actors kept (GCS fault tolerance), the head's own jobs are lost";

/** The disruption of one plan item, given whether the head restarts in the same plan. */
export function nodeDisruption(
  item: PlanItem,
  headRestarts: boolean,
  drainTimeoutSec: number,
  workersKept = false,
): string {
  switch (item.action) {
    case 'keep':
      return 'keep';
    case 'start':
      // nothing of this cluster runs there, so nothing running is lost
      if (item.role === 'head' && workersKept) return HEAD_START_KEEPING_WORKERS;
      return item.role === 'head' ? 'start head: nothing runs yet' : 'start (joins the running cluster)';
    case 'stop':
      return drainTimeoutSec > 0 ? 'stop (drained first)' : 'stop: its running tasks are lost';
    case 'restart':
      if (item.role === 'head') return workersKept ? HEAD_RESTART_KEEPING_WORKERS : HEAD_RESTART;
      if (headRestarts) return 'restart (follows the head)';
      return 'restart (rolling)';
  }
}

/** Fills in each item's disruption (after the plan is complete: a head restart changes the workers'). */
export function withDisruption(plan: PlanItem[], rollout: RolloutSpec, workersKept = false): PlanItem[] {
  const headRestarts = plan.some((p) => p.role === 'head' && p.action === 'restart');
  for (const item of plan) item.disruption = nodeDisruption(item, headRestarts, rollout.drainTimeoutSec, workersKept);
  return plan;
}

/** How many workers one batch may take down: a count, or a percentage of the workers (at least 1). */
export function batchSize(rollout: RolloutSpec, workers: number): number {
  const { maxUnavailable } = rollout;
  const n = 'count' in maxUnavailable ? maxUnavailable.count : Math.floor((workers * maxUnavailable.percent) / 100);
  return Math.max(1, Math.min(n, Math.max(workers, 1)));
}

/** Splits the workers to restart into batches of at most `size`, in config order. */
export function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One sentence for the whole cluster: the worst thing the plan does to running work. */
export function clusterDisruption(plan: PlanItem[], rollout: RolloutSpec, workers: number): string {
  const head = plan.find((p) => p.role === 'head');
  if (head?.action === 'restart' && head.disruption !== HEAD_RESTART_KEEPING_WORKERS) {
    return `the head restarts: running jobs and actors are lost, and every worker restarts with it`;
  }
  const rolling = plan.filter((p) => p.role === 'worker' && p.action === 'restart').length;
  const stopping = plan.filter((p) => p.action === 'stop').length;
  const parts: string[] = [];
  if (rolling) {
    const size = batchSize(rollout, workers);
    const drain =
      rollout.drainTimeoutSec > 0
        ? `each drained first (running tasks get up to ${rollout.drainTimeoutSec} s to finish)`
        : 'not drained: their running tasks are lost';
    parts.push(
      `${rolling} worker${rolling === 1 ? '' : 's'} restart${rolling === 1 ? 's' : ''} rolling, ${size} at a time, ${drain}`,
    );
  }
  if (stopping)
    parts.push(`${stopping} node${stopping === 1 ? '' : 's'} removed from the config stop${stopping === 1 ? 's' : ''}`);
  if (head?.action === 'start' && head.disruption === HEAD_START_KEEPING_WORKERS)
    return ['the head starts again on its Redis: the running workers and their actors rejoin it', ...parts].join('; ');
  if (head?.action === 'start') return 'the cluster starts: nothing runs yet';
  if (head?.action === 'restart')
    return [
      'the head restarts: the workers and their actors are kept (GCS fault tolerance), jobs running on the head are lost',
      ...parts,
    ].join('; ');
  return parts.length ? `${parts.join('; ')}; the head and its jobs keep running` : 'no running node is disrupted';
}
