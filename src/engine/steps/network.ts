// The network between the nodes, tested before Ray starts (`start`, and a live `plan`): every node
// listens on the ports other nodes will connect to (`listen`, bounded on the node), then every other
// node connects to them (`reach`), over the addresses Ray will use. Ports Ray already holds on a
// running node are not bound again: the peers knock on Ray's own listener there.
import type { ListenAnswer, ListenReady, ProbeAnswer, ReachRequest } from '../../remote/types';
import { blockedPairError, netPairs, netPorts, type NetPort, type PairOutcome } from '../decisions/network';
import type { ClusterSession, NodeHandle } from './session';
import type { RunError } from '../types';

/** Each connect gets this long: a LAN answers in a millisecond, a dropped port never does. */
export const REACH_TIMEOUT_MS = 2_000;
/** A listener's own limit on the node (it ends sooner: once every expected peer came, or when told). */
const LISTEN_DEADLINE_MS = 25_000;

export interface NetworkCheck {
  errors: RunError[];
  /** Pairs of nodes tested, and connects made. */
  pairs: number;
  connects: number;
  ms: number;
}

/** `probes`: what each node runs now (its Ray's worker ports are not bound again while it runs). */
export async function checkNetwork(
  session: ClusterSession,
  handles: NodeHandle[],
  probes: Map<string, ProbeAnswer>,
): Promise<NetworkCheck> {
  const t0 = Date.now();
  const { reporter } = session.options;
  const usable = handles.filter((h) => h.lib && !h.error);
  const none: NetworkCheck = { errors: [], pairs: 0, connects: 0, ms: 0 };
  if (usable.length < 2) return none;
  const byName = new Map(usable.map((h) => [h.node.name, h]));
  const address = (h: NodeHandle) => h.node.ray.nodeIpAddress ?? h.ip;
  const table = netPorts(session.cluster);
  // a running node's Ray may be handing out its worker range: those ports are left alone there
  const ports = new Map<string, NetPort[]>(
    usable.map((h) => [
      h.node.name,
      (table.get(h.node.name) ?? []).filter((p) => !(p.range && probes.get(h.node.name)?.running)),
    ]),
  );
  const pairs = netPairs(usable.map((h) => h.node.name));
  const expect = new Map<string, Record<string, number>>();
  for (const [, to] of pairs) {
    const counts = expect.get(to) ?? {};
    for (const p of ports.get(to) ?? []) counts[p.port] = (counts[p.port] ?? 0) + 1;
    expect.set(to, counts);
  }

  // 1. every node listens; the peers knock once all are ready
  const stop = new AbortController();
  const ready = new Map<string, ListenReady>();
  const problems: RunError[] = [];
  const listening = usable.map((h) => {
    let onReady!: () => void;
    const isReady = new Promise<void>((resolve) => (onReady = resolve));
    const done = h
      .lib!.listen(
        {
          ports: (ports.get(h.node.name) ?? []).map((p) => ({ name: p.what, port: p.port })),
          expect: expect.get(h.node.name) ?? {},
          deadline_ms: LISTEN_DEADLINE_MS,
          family: address(h).includes(':') ? 'inet6' : 'inet',
        },
        (r) => {
          ready.set(h.node.name, r);
          onReady();
        },
        stop.signal,
      )
      .catch((err: Error): ListenAnswer => ({ ok: false, error: err.message }))
      .then((answer) => {
        if (!answer.ok && !ready.has(h.node.name) && !('aborted' in answer && answer.aborted)) {
          reporter.warn(
            `${h.node.name}: the network could not be tested from here: ${answer.error ?? 'listen failed'}`,
          );
        }
        onReady();
        return answer;
      });
    return { h, isReady, done };
  });
  await Promise.all(listening.map((l) => l.isReady));

  // 2. each node connects to its peers' ports: the ones bound by the listener, or held by Ray itself
  const open = (name: string) => {
    const r = ready.get(name);
    if (!r) return [];
    const held = new Set(r.busy.filter((b) => b.by_this_cluster).map((b) => b.port));
    return (ports.get(name) ?? []).filter((p) => r.bound.includes(p.port) || held.has(p.port));
  };
  const outcomes: PairOutcome[] = [];
  let connects = 0;
  await Promise.all(
    usable.map(async (src) => {
      const mine = pairs.filter(([from, to]) => from === src.node.name && ready.has(to));
      const targets = mine.flatMap(([, to]) =>
        open(to).map((p) => ({ to: byName.get(to)!, port: p, address: address(byName.get(to)!) })),
      );
      if (!targets.length) return;
      const request: ReachRequest = {
        targets: targets.map((t) => ({ address: t.address, port: t.port.port })),
        timeout_ms: REACH_TIMEOUT_MS,
      };
      try {
        const answer = await src.lib!.reach(request);
        if (!answer.ok) throw new Error(answer.error ?? 'reach failed');
        connects += answer.results.length;
        answer.results.forEach((r, i) => {
          const t = targets[i]!;
          outcomes.push({
            from: { node: src.node.name, address: address(src) },
            to: { node: t.to.node.name, address: t.address },
            port: t.port,
            result: r.result,
            ms: r.ms,
            ...(r.error ? { error: r.error } : {}),
          });
        });
      } catch (err) {
        reporter.warn(`${src.node.name}: the network could not be tested from here: ${(err as Error).message}`);
      }
    }),
  );

  // 3. the listeners that still wait (a peer that never came) are ended now
  await Promise.race([Promise.all(listening.map((l) => l.done)), new Promise((r) => setTimeout(r, 300))]);
  stop.abort();
  await Promise.all(listening.map((l) => l.done));

  for (const o of outcomes.filter((x) => x.result !== 'ok')) {
    problems.push(blockedPairError(o, byName.get(o.to.node)?.node.sshUrl));
  }
  const ms = Date.now() - t0;
  if (!problems.length)
    reporter.info(
      `network: ${pairs.length} pairs of nodes reached each other on ${connects} ports in ${(ms / 1000).toFixed(1)} s`,
    );
  return { errors: problems, pairs: pairs.length, connects, ms };
}
