// The network between the nodes (pure): which pairs of nodes are tested, on which ports, and what a
// blocked one means. The ports and what each is for come from the firewall's table (firewall.ts):
// the ones other nodes connect to and that are known before Ray starts (pinned, or Ray's fixed
// defaults); a range is sampled, a few ports of it.
import type { ClusterConfig } from '../../config/types';
import type { ReachOutcome } from '../../remote/types';
import { firewallPlan } from './firewall';
import type { ClusterCheck, RunError } from '../types';

/** Up to this many nodes every ordered pair is tested; beyond, a sample (netPairs). */
export const ALL_PAIRS_UP_TO = 32;
/** In a sample, each node is the source of this many pairs and the target of as many. */
export const SAMPLED_PEERS = 8;

/** A port other nodes connect to on a node, known before Ray starts. */
export interface NetPort {
  port: number;
  /** What listens there, as the firewall's table says it ("object manager (object_manager_port)"). */
  what: string;
  /** One of a range's sampled ports (the worker processes'). */
  range?: true;
}

/**
 * Ordered pairs [from, to] of node names: every pair up to ALL_PAIRS_UP_TO nodes; beyond, node i with
 * i+1, i+2, i+4, ... (SAMPLED_PEERS steps): each node is tested as source and as target as often, and
 * the steps reach across the whole cluster (O(n) pairs).
 */
export function netPairs(names: string[], allUpTo = ALL_PAIRS_UP_TO, peers = SAMPLED_PEERS): [string, string][] {
  const n = names.length;
  const pairs: [string, string][] = [];
  if (n <= allUpTo) {
    for (const a of names) for (const b of names) if (a !== b) pairs.push([a, b]);
    return pairs;
  }
  const steps: number[] = [];
  for (let s = 1; s <= n - 1 && steps.length < peers; s *= 2) steps.push(s);
  for (let s = 3; s <= n - 1 && steps.length < peers; s++) if (!steps.includes(s)) steps.push(s);
  for (let i = 0; i < n; i++) for (const s of steps) pairs.push([names[i]!, names[(i + s) % n]!]);
  return pairs;
}

/** A few ports of a range (its ends and its middle): a blocked range shows on them. */
export function samplePorts([min, max]: [number, number]): number[] {
  return [...new Set([min, Math.floor((min + max) / 2), max])];
}

/** The ports other nodes connect to on each node (by node name), known before Ray starts. */
export function netPorts(cluster: ClusterConfig): Map<string, NetPort[]> {
  const out = new Map<string, NetPort[]>();
  for (const node of firewallPlan(cluster).nodes) {
    const ports: NetPort[] = [];
    for (const rule of node.rules) {
      if (rule.from !== 'nodes' || rule.known === 'random') continue;
      if (rule.ports[0] === rule.ports[1]) ports.push({ port: rule.ports[0], what: rule.what });
      else for (const port of samplePorts(rule.ports)) ports.push({ port, what: rule.what, range: true });
    }
    out.set(node.node, ports);
  }
  return out;
}

/** What one source saw of one target port. */
export interface PairOutcome {
  from: { node: string; address: string };
  to: { node: string; address: string };
  port: NetPort;
  result: ReachOutcome;
  ms: number;
  error?: string;
}

const SAYS: Record<Exclude<ReachOutcome, 'ok'>, string> = {
  timeout: 'connection timed out, a firewall?',
  refused: 'connection refused while nokube listened there, a firewall that rejects?',
  unreachable: 'no route to the host, a firewall or routing?',
  error: 'connection failed',
};

/** A blocked pair, as the user should read it: both nodes, the port, what it is for, the rule that opens it. */
export function blockedPairError(o: PairOutcome, host?: string): RunError {
  const why = o.result === 'ok' ? '' : SAYS[o.result];
  const detail = o.error && o.result !== 'timeout' && o.result !== 'refused' ? ` (${o.error})` : '';
  const what = o.port.what.replace(/ \(.*\)$/, '');
  return {
    node: o.to.node,
    ...(host ? { host } : {}),
    message: `${o.from.node} cannot reach ${o.to.node} (${o.to.address}):${o.port.port}, ${what}: ${why}${detail} allow TCP ${o.port.port} from ${o.from.address}`,
    hint: `open the port on ${o.to.node} to the other nodes (nokube ray firewall prints every rule the config needs), or test it by hand: nc -vz ${o.to.address} ${o.port.port} on ${o.from.node}`,
  };
}

/** `check`: the failed pairs and the ports that did not answer, as errors; a pair's hint names its blocked port. */
export function checkProblems(check: ClusterCheck, ips: Record<string, string>): RunError[] {
  const problems: RunError[] = [];
  for (const name of check.missing) {
    problems.push({
      node: name,
      message: `${name} is not alive in the head's node table: its network was not tested`,
      hint: 'nokube ray status shows where it stands; nokube ray start brings it back',
    });
  }
  const failedPort = (from: string, to: string) =>
    check.ports.find((p) => p.from === from && p.to === to && p.result !== 'ok');
  for (const pair of check.pairs.filter((p) => !p.ok)) {
    const port = failedPort(pair.to, pair.from);
    problems.push({
      node: pair.to,
      message: `${pair.to} could not fetch an object from ${pair.from} within ${check.deadlineSec}s: ${pair.error ?? 'failed'}`,
      hint: port
        ? `${pair.to} cannot reach ${pair.from} (${port.address}):${port.port}, ${port.what}: allow TCP ${port.port} from ${ips[pair.to] ?? pair.to} on ${pair.from} (nokube ray firewall prints every rule)`
        : `read Ray's logs of both nodes (nokube ray logs: raylet.out); nokube ray firewall prints the ports each node must accept from the others`,
    });
  }
  for (const p of check.ports.filter((x) => x.result !== 'ok')) {
    const why = p.result === 'ok' ? '' : SAYS[p.result];
    problems.push({
      node: p.to,
      message: `${p.from} cannot reach ${p.to} (${p.address}):${p.port}, ${p.what}: ${why}${p.error ? ` (${p.error})` : ''}`,
      hint: `allow TCP ${p.port} from ${ips[p.from] ?? 'the head'} on ${p.to}; pin the port (ray_spec.ports) to write a narrow rule: nokube ray firewall`,
    });
  }
  return problems;
}
