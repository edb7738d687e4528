// The engine's single entry point: both front ends call run() and render its RunResult.
import { loadConfig } from '../config';
import { planCluster } from './plan';
import { PhaseClock, clusterResult, emptyResult, fail } from './steps/run-result';
import { ClusterSession } from './steps/session';
import { useSshConfigHostNames } from './steps/ssh-config-hosts';
import { startCluster } from './start';
import { clusterStatus } from './status';
import { stopCluster } from './stop';
import { runJob } from './job';
import { runExec } from './exec';
import { clusterEnv } from './env';
import type { RunOptions, RunResult } from './types';

export type * from './types';
export { offlinePlan, livePlan, countChanges } from './decisions/plan-diff';
export { assessCluster } from './decisions/health';
export { worstExit } from './exec';
export { parseRuntimeEnv } from './job';
export {
  COMMANDS,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONFIG,
  DEFAULT_TIMEOUT_SEC,
  connectTimeoutSec,
} from './decisions/defaults';
export { verdict, type Verdict } from './decisions/verdict';

export async function run(options: RunOptions): Promise<RunResult> {
  const parsed = loadConfig(options.configPath, {
    defaultUser: options.ssh.defaultUser,
    env: options.env,
    allowMissingEnv: options.allowMissingEnv || (options.command === 'plan' && options.offline === true),
  });
  if (!parsed.config) {
    const result = emptyResult(options.command, options.configPath, parsed.diagnostics);
    result.ok = false;
    return result;
  }
  // --no-drain (the Action's no-drain input): this run stops and restarts workers as drain_timeout: 0
  // would, and its plan texts say so
  const cluster = options.noDrain
    ? { ...parsed.config, rollout: { ...parsed.config.rollout, drainTimeoutSec: 0 } }
    : parsed.config;
  useSshConfigHostNames(cluster, options.ssh, options.reporter);
  const result = clusterResult(options.command, cluster, parsed.diagnostics);
  const clock = new PhaseClock(result, options.reporter);
  if (options.command === 'validate') {
    clock.total();
    return result;
  }
  const session = new ClusterSession(cluster, options);
  try {
    if (options.command === 'plan') await planCluster(session, result, clock);
    else if (options.command === 'start') await startCluster(session, result, clock);
    else if (options.command === 'status') await clusterStatus(session, result, clock);
    else if (options.command === 'stop') await stopCluster(session, result, clock);
    else if (options.command === 'job') await runJob(session, result, clock);
    else if (options.command === 'exec') await runExec(session, result, clock);
    else if (options.command === 'env') await clusterEnv(session, result, clock);
  } catch (err) {
    // A bug or an unexpected remote failure: still a result that says where things stand.
    fail(result, { message: (err as Error).message ?? String(err), hint: 'run with NOKUBE_DEBUG=1 for details' });
    options.reporter.debug((err as Error).stack ?? String(err));
  } finally {
    session.close();
  }
  result.timeline = session.timeline.result(cluster.nodes.map((n) => n.name));
  clock.total();
  return result;
}
