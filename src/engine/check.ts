// `check`: the network of a running cluster, tested from the inside, ports pinned or not. A small Ray
// program on the head puts an object on each node and has each node of a pair fetch the other's (a
// deadline per pair), and knocks on the node manager and object manager ports of the head's node
// table from each node and from the head. Connects to the head only: Ray places the tasks.
import { checkProblems, netPairs } from './decisions/network';
import { gcsPort } from './decisions/desired';
import { fail, type PhaseClock } from './steps/run-result';
import { nodeError, type ClusterSession } from './steps/session';
import type { CheckPort, ClusterCheck, RunResult } from './types';

/** Each fetch's deadline: a few MB cross a LAN in well under a second, a blocked port never. */
export const CHECK_DEADLINE_SEC = 15;
/**
 * The object each node puts for each peer (one per pair: a node that fetched one holds a copy others
 * could take instead): big enough to go through the object store and the object manager.
 */
export const CHECK_OBJECT_BYTES = 2 * 1024 * 1024;
const PORT_TIMEOUT_SEC = 2;
/** The program's own start (import ray, connect, a worker on each node) comes on top of the deadlines. */
const PROGRAM_MARGIN_SEC = 180;
const DRIVER = "(head's driver)";

export async function checkCluster(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const { cluster, options } = session;
  const [head] = await clock.phase('connect', () => session.connect([cluster.head]));
  if (head!.error) {
    fail(result, head!.error);
    result.status = 'unknown';
    return;
  }
  const names = cluster.nodes.map((n) => n.name);
  const pairs = netPairs(names);
  options.reporter.info(`check: ${pairs.length} pairs of nodes, an object of ${CHECK_OBJECT_BYTES >> 20} MB each way`);
  let answer;
  try {
    answer = await clock.phase('check', () =>
      head!.lib!.netCheck(
        {
          gcs_port: gcsPort(cluster.head),
          python: cluster.python ?? null,
          nodes: names,
          pairs,
          deadline_sec: CHECK_DEADLINE_SEC,
          object_bytes: CHECK_OBJECT_BYTES,
          port_timeout_sec: PORT_TIMEOUT_SEC,
        },
        (CHECK_DEADLINE_SEC * 2 + PROGRAM_MARGIN_SEC) * 1000,
      ),
    );
  } catch (err) {
    fail(result, nodeError(cluster.head, err));
    result.status = 'unknown';
    return;
  }
  if (!answer.ok) {
    fail(result, {
      node: cluster.head.name,
      host: cluster.head.sshUrl,
      message: answer.error ?? 'check failed',
      hint: answer.hint,
    });
    result.status = 'down';
    return;
  }
  // the driver runs on the head: its knocks are the head's
  const seen = new Set<string>();
  const ports: CheckPort[] = [];
  for (const p of answer.ports) {
    const from = p.from === DRIVER ? cluster.head.name : p.from;
    const key = `${from}\u0000${p.to}\u0000${p.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ports.push({
      from,
      to: p.to,
      address: p.ip,
      port: p.port,
      what: p.what,
      result: p.result,
      ms: p.ms,
      ...(p.error ? { error: p.error } : {}),
    });
  }
  const check: ClusterCheck = {
    nodes: answer.nodes,
    missing: names.filter((n) => !answer.nodes.includes(n)),
    pairs: answer.pairs,
    ports,
    objectBytes: CHECK_OBJECT_BYTES,
    deadlineSec: CHECK_DEADLINE_SEC,
  };
  result.check = check;
  const ips = Object.fromEntries(ports.map((p) => [p.to, p.address]));
  for (const problem of checkProblems(check, ips)) fail(result, problem);
  result.aliveNodes = answer.nodes.length;
  for (const node of result.nodes) node.state = answer.nodes.includes(node.name) ? 'running' : 'missing';
  result.status = result.errors.length ? 'degraded' : 'healthy';
}
