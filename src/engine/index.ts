// The engine's one door: both front ends call run() for every command and render what it returns.
// The config is loaded here, once (environment and ~/.ssh/config host names applied), and each
// command's story (a file of its own beside this one) gets a session to the nodes it names.
import { checkCluster } from './check';
import { clusterEnv } from './env';
import { openDashboard } from './dashboard';
import { runExec } from './exec';
import { runJob } from './job';
import { initCluster } from './init';
import { collectLogs, emptyLogsResult } from './logs';
import { planCluster } from './plan';
import { startCluster } from './start';
import { clusterStatus, watchStatus } from './status';
import { stopCluster } from './stop';
import { loadClusterConfig } from './steps/load-config';
import { PhaseClock, clusterResult, emptyResult, fail } from './steps/run-result';
import { ClusterSession } from './steps/session';
import type {
  DashboardRequest,
  DashboardResult,
  EngineCommand,
  InitRequest,
  InitResult,
  LogsRequest,
  LogsResult,
  RunOptions,
  RunResult,
} from './types';

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

/** `logs`: the nodes' logs into a directory or one archive. */
export function run(options: RunOptions<'logs'> & { logs: LogsRequest }): Promise<LogsResult>;
/** `dashboard`: forwards held open until the result's `forward.close()` (the session lives as long). */
export function run(options: RunOptions<'dashboard'> & { dashboard: DashboardRequest }): Promise<DashboardResult>;
/** `init`: the listed hosts looked at, a first config proposed (no config is read: it is being made). */
export function run(options: RunOptions<'init'> & { init: InitRequest }): Promise<InitResult>;
/** validate, plan, start, status, stop, job, exec, env, check: one RunResult. */
export function run(options: RunOptions): Promise<RunResult>;
export async function run(
  options: RunOptions<EngineCommand>,
): Promise<RunResult | LogsResult | DashboardResult | InitResult> {
  if (options.command === 'init') return initCluster(options as RunOptions<'init'>, options.init!);
  const started = Date.now();
  const loaded = loadClusterConfig(options);
  const { cluster, diagnostics } = loaded;

  if (options.command === 'logs') {
    const result = emptyLogsResult(options.configPath, options.logs!, diagnostics);
    if (!cluster) return { ...result, invalid: true };
    const session = new ClusterSession(cluster, options);
    try {
      return await collectLogs(session, result, options.logs!, started);
    } finally {
      session.close();
    }
  }
  if (options.command === 'dashboard') {
    if (!cluster) return { ok: false, invalid: true, diagnostics, errors: [], openMs: 0 };
    return openDashboard(new ClusterSession(cluster, options), options.dashboard!, diagnostics, started);
  }

  const command = options.command;
  if (!cluster) {
    const result = emptyResult(command, options.configPath, diagnostics);
    result.ok = false;
    return result;
  }
  const result = clusterResult(command, cluster, diagnostics);
  result.warnings.push(...loaded.warnings);
  const clock = new PhaseClock(result, options.reporter);
  if (command === 'validate') {
    clock.total();
    return result;
  }
  const session = new ClusterSession(cluster, options as RunOptions);
  try {
    if (command === 'plan') await planCluster(session, result, clock, loaded.previous);
    else if (command === 'start') await startCluster(session, result, clock);
    else if (command === 'status' && options.watch) await watchStatus(session, result, clock, options.watch);
    else if (command === 'status') await clusterStatus(session, result, clock);
    else if (command === 'stop') await stopCluster(session, result, clock);
    else if (command === 'job') await runJob(session, result, clock);
    else if (command === 'exec') await runExec(session, result, clock);
    else if (command === 'env') await clusterEnv(session, result, clock);
    else if (command === 'check') await checkCluster(session, result, clock);
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
export { firewallPlan } from './decisions/firewall';
export { hostsFromFlags, hostsFromFile } from './decisions/init-hosts';
