// Using the cluster once it runs: which nodes a command names, the addresses Ray's tools take, and
// running a command on a node "in its Ray environment" (the interpreter `start` uses first on PATH,
// RAY_ADDRESS = the head's GCS address, the token file in RAY_AUTH_TOKEN_PATH). Shared by job, exec,
// env and the day-two commands.
import type { NodeSpec } from '../../config/types';
import { dashboardPort, gcsPort, hostForUrl } from '../decisions/desired';
import { fail, type PhaseClock } from './run-result';
import type { ClusterSession, NodeHandle } from './session';
import type { RunError, RunResult } from '../types';

/** The head's GCS address as the nodes reach it (what `ray.init()` and `ray status` accept). */
export function gcsAddress(session: ClusterSession): string {
  const head = session.cluster.head;
  return `${hostForUrl(head.ray.nodeIpAddress ?? session.handle(head).ip)}:${gcsPort(head)}`;
}

/** The job API's address (RAY_ADDRESS for `ray job submit`), as the head is reached from here. */
export function jobAddress(session: ClusterSession): string {
  return `http://${hostForUrl(session.cluster.head.host)}:${dashboardPort(session.cluster)}`;
}

/**
 * The nodes a command names: `names` (each must be in the config), all nodes, the workers, or by
 * default the head. Unknown names are a usage error naming them and the nodes that exist.
 */
export function chooseNodes(
  session: ClusterSession,
  choice: { nodes?: string[]; all?: boolean; workers?: boolean },
): NodeSpec[] | RunError {
  const { cluster } = session;
  const names = choice.nodes ?? [];
  const unknown = names.filter((n) => !cluster.nodes.some((x) => x.name === n));
  if (unknown.length) {
    return {
      message: `no node named ${unknown.map((n) => `"${n}"`).join(', ')} in ${cluster.file}`,
      hint: `the nodes are: ${cluster.nodes.map((n) => n.name).join(', ')}`,
    };
  }
  if (choice.all) return cluster.nodes;
  const chosen = new Set(names);
  if (choice.workers) for (const w of cluster.workers) chosen.add(w.name);
  if (!chosen.size) return [cluster.head];
  return cluster.nodes.filter((n) => chosen.has(n.name));
}

/** Connects the head; an unreachable head fails the run (status `down`) and returns undefined. */
export async function connectHead(
  session: ClusterSession,
  result: RunResult,
  clock: PhaseClock,
): Promise<NodeHandle | undefined> {
  const [head] = await clock.phase('connect', () => session.connect([session.cluster.head]));
  if (!head.lib) {
    fail(result, head.error ?? { node: head.node.name, message: 'cannot connect to the head' });
    result.status = 'down';
    return undefined;
  }
  return head;
}

export interface RunInRayEnvOptions {
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  signal?: AbortSignal;
  /** Overrides the per-command timeout (0 = none: a command may run as long as it needs). */
  timeoutMs?: number;
}

/**
 * Runs `argv` on a connected node in its Ray environment; each word reaches the command as one
 * argument (JSON on stdin, execve on the node: no shell re-splits it). Throws when it cannot start.
 */
export function runInRayEnv(
  session: ClusterSession,
  handle: NodeHandle,
  argv: string[],
  opts: RunInRayEnvOptions = {},
) {
  return handle.lib!.run(
    { argv, python: session.cluster.python ?? null, ray_address: gcsAddress(session) },
    { timeoutMs: opts.timeoutMs ?? 0, onStdout: opts.onStdout, onStderr: opts.onStderr, signal: opts.signal },
  );
}
