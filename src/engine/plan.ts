// `plan`: what `start` would do. Offline from the previous config (a PR's base branch);
// live, when credentials are present, from what runs on the nodes now.
import { findCredentialRefs } from '../config';
import type { ClusterConfig } from '../config/types';
import { clusterDisruption } from './decisions/disruption';
import { countChanges, livePlan, offlinePlan, withUnknownLiveState } from './decisions/plan-diff';
import { noTokenAuthWarning } from './decisions/no-token-auth';
import { headRestartWords, redisProblem } from './decisions/gcs-fault-tolerance';
import { launcherWarning, nodeSupervision } from './decisions/supervision';
import { reviewHostKeyPins } from './decisions/pinned-host-keys';
import { fail, type PhaseClock } from './steps/run-result';
import { installerWords, lookAtPackages, nodesToInstall } from './steps/install';
import { judgeEnvironment, withPackageDrift } from './decisions/environment';
import { baseExecution } from './decisions/pull-request-execution';
import type { ClusterSession } from './steps/session';
import { liveNodes, probeAll, recordedMembers, unknownPythonPath, wantedSpecs } from './steps/inspect';
import { checkNetwork } from './steps/network';
import type { RunOptions, RunResult } from './types';

/** Whether a live look is possible at all: some key, agent or password (its variables set) to log in with. */
export function hasCredentials(cluster: ClusterConfig, options: RunOptions): boolean {
  const { ssh, env } = options;
  const usable = (password: string) => findCredentialRefs(password).every((name) => !!env[name]);
  return (
    ssh.identities.length > 0 ||
    !!ssh.agentSocket ||
    cluster.nodes.some((n) => n.users.some((u) => u.password !== undefined && usable(u.password)))
  );
}

/** `previous`: the config `start` last applied or the pull request's base (read by the door, as this one). */
export async function planCluster(
  session: ClusterSession,
  result: RunResult,
  clock: PhaseClock,
  previous: ClusterConfig | undefined,
): Promise<void> {
  const { cluster, options } = session;
  if (options.offline || !hasCredentials(cluster, options)) {
    result.plan = offlinePlan(cluster, previous);
    const unauthenticated = noTokenAuthWarning(cluster, undefined);
    if (unauthenticated) result.warnings.push(unauthenticated);
  } else {
    let nodes = cluster.nodes;
    if (options.distrustChangedPins) {
      const review = reviewHostKeyPins(cluster, previous);
      nodes = review.nodes;
      result.warnings.push(...review.warnings);
      // nor what runs on the nodes: the base's interpreter, venv and storage
      const execution = baseExecution(cluster, previous);
      session.useExecutions(execution.nodes);
      if (execution.note) result.warnings.push(execution.note);
    }
    const handles = await clock.phase('connect', () => session.connect(nodes));
    const probed = await clock.phase('inspect', () => probeAll(session, handles, false));
    const packages = cluster.install
      ? await clock.phase('packages', () => lookAtPackages(session, handles))
      : await lookAtPackages(session, handles);
    const environment = judgeEnvironment(cluster, packages);
    for (const e of environment.errors) fail(result, e);
    result.warnings.push(...environment.warnings);
    const unauthenticated = noTokenAuthWarning(cluster, probed.probes.get(cluster.head.name));
    if (unauthenticated) result.warnings.push(unauthenticated);
    result.warnings.push(...unknownPythonPath(probed.probes));
    const redis = redisProblem(cluster, probed.probes.get(cluster.head.name));
    if (redis)
      result.warnings.push(`${redis.message}: start would refuse to run${redis.hint ? ` (${redis.hint})` : ''}`);
    const recorded = recordedMembers(session, probed);
    const members = recorded.length
      ? recorded
      : (previous?.nodes.map((n) => ({ name: n.name, role: n.role, ssh_url: n.sshUrl })) ?? []);
    const live = liveNodes(cluster, session, probed);
    const unknown = new Map(handles.filter((h) => h.error).map((h) => [h.node.name, h.error!.message]));
    result.plan = withUnknownLiveState(
      livePlan(cluster, wantedSpecs(session), withPackageDrift(live, environment), members),
      offlinePlan(cluster, previous),
      unknown,
      cluster,
    );
    // which installer each node that installs something will use
    for (const node of nodesToInstall(session, probed.probes, packages)) {
      const item = result.plan.find((p) => p.node === node.name);
      const p = probed.probes.get(node.name);
      const what = !p?.ray || p.ray.version !== cluster.rayVersion ? `ray==${cluster.rayVersion}` : 'packages';
      item?.drift.push({ field: 'install', from: '', to: `${what} with ${installerWords(packages.get(node.name))}` });
    }
    for (const h of handles) {
      if (h.error) result.warnings.push(`${h.node.name}: live state unknown (${h.error.message})`);
    }
    // what `start` would find before starting anything (read-only: Ray's own ports are knocked on, not bound)
    const network = await clock.phase('network', () => checkNetwork(session, handles, probed.probes));
    for (const e of network.errors) fail(result, e);
    for (const node of result.nodes) {
      const p = probed.probes.get(node.name);
      if (!p) node.state = 'unreachable';
      else {
        node.state = !p.running ? 'stopped' : live.get(node.name)?.alive === false ? 'missing' : 'running';
        node.rayVersion = p.ray?.version;
        node.pythonVersion = p.python?.version;
        const supervision = nodeSupervision(p.supervision, p.launcher);
        if (supervision) node.supervision = supervision;
        const noReboot = cluster.restart === 'always' ? launcherWarning(node.name, p.launcher) : undefined;
        if (noReboot) result.warnings.push(noReboot);
      }
    }
  }
  result.changes = countChanges(result.plan);
  result.disruption = clusterDisruption(result.plan, cluster.rollout, cluster.workers.length);
  result.headRestart = headRestartWords(cluster);
}
