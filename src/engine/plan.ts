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
import type { PhaseClock } from './steps/run-result';
import type { ClusterSession } from './steps/session';
import { liveNodes, probeAll, recordedMembers, wantedSpecs } from './steps/inspect';
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
    }
    const handles = await clock.phase('connect', () => session.connect(nodes));
    const probed = await clock.phase('inspect', () => probeAll(session, handles, false));
    const unauthenticated = noTokenAuthWarning(cluster, probed.probes.get(cluster.head.name));
    if (unauthenticated) result.warnings.push(unauthenticated);
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
      livePlan(cluster, wantedSpecs(session), live, members),
      offlinePlan(cluster, previous),
      unknown,
      cluster,
    );
    for (const h of handles) {
      if (h.error) result.warnings.push(`${h.node.name}: live state unknown (${h.error.message})`);
    }
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
