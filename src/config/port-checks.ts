// The ports a node's Ray opens, pinned in ray_config or for all nodes in ray_spec.ports: no two equal
// on a node, a worker range that is whole and wide enough, and no clash between nodes on one host.
// (The head's own three ports among themselves are checked in node-checks.ts.)
import type { Findings } from './diagnostics';
import { asInteger, asList, asMap, asString, type PlainMap } from './plain';
import {
  DEFAULT_CLIENT_PORT,
  DEFAULT_DASHBOARD_PORT,
  DEFAULT_GCS_PORT,
  NODE_PORT_RAY_KEYS,
  WORKER_PORT_MARGIN,
} from './ray-keys';
import type { NodeFacts } from './node-checks';
import type { SourceIndex } from './yaml/source-index';

interface Port {
  key: string;
  value: number;
  /** Where it was written (a node's ray_config or ray_spec.ports); undefined for a head default. */
  path?: string;
  /** From ray_spec.ports: shared by every node. */
  shared: boolean;
}

interface NodePorts {
  facts: NodeFacts;
  /** Single ports (the head's three with their defaults, then the pinned ones). */
  single: Port[];
  range?: { min: Port; max: Port };
  /** One end of the worker range pinned without the other. */
  lone?: Port;
  /** num_cpus as written. */
  cpus?: number;
  /** The address Ray binds on: node_ip_address, else the host of ssh_url. */
  address?: string;
}

export interface PortCheckContext {
  findings: Findings;
  index: SourceIndex;
  shapeProblems: Set<string>;
}

export function checkPorts(top: PlainMap, facts: NodeFacts[], ctx: PortCheckContext): void {
  const raySpec = asMap(top.ray_spec);
  const shared = asMap(raySpec?.ports) ?? {};
  const said = new Set<string>();
  // A clash of two ray_spec.ports values is the same on every node: said once.
  const error = (path: string, message: string, hint: string) => {
    if (said.has(`${path}\u0000${message}`)) return;
    said.add(`${path}\u0000${message}`);
    ctx.findings.error(path, message, { hint });
  };
  const nodes = asList(top.nodes);
  const all: NodePorts[] = [];
  for (const f of facts) {
    const node = asMap(nodes[f.index]);
    if (!node) continue;
    const ports = nodePorts(node, f, shared, raySpec, ctx);
    checkOneNode(ports, error);
    all.push(ports);
  }
  checkOneHost(all, ctx, error);
}

function nodePorts(
  node: PlainMap,
  facts: NodeFacts,
  shared: PlainMap,
  raySpec: PlainMap | undefined,
  ctx: PortCheckContext,
): NodePorts {
  const at = `nodes[${facts.index}].ray_config`;
  const ray = asMap(node.ray_config) ?? {};
  const usable = (path: string, value: unknown) => (ctx.shapeProblems.has(path) ? undefined : asInteger(value));
  const single: Port[] = [];
  if (facts.role === 'head') {
    const head = (key: string, fallback: number, clusterPath?: string) => {
      const own = usable(`${at}.${key}`, ray[key]);
      if (own !== undefined) return single.push({ key, value: own, path: `${at}.${key}`, shared: false });
      const cluster = clusterPath ? usable(clusterPath, raySpec?.dashboard_port) : undefined;
      if (cluster !== undefined) return single.push({ key, value: cluster, path: clusterPath, shared: true });
      single.push({ key, value: fallback, shared: false });
    };
    head('port', DEFAULT_CLIENT_PORT);
    head('gcs_port', DEFAULT_GCS_PORT);
    head('dashboard_port', DEFAULT_DASHBOARD_PORT, 'ray_spec.dashboard_port');
  }
  const pinned = new Map<string, Port>();
  for (const { yaml: key } of NODE_PORT_RAY_KEYS) {
    const own = usable(`${at}.${key}`, ray[key]);
    const fromSpec = usable(`ray_spec.ports.${key}`, shared[key]);
    if (own !== undefined) pinned.set(key, { key, value: own, path: `${at}.${key}`, shared: false });
    else if (fromSpec !== undefined)
      pinned.set(key, { key, value: fromSpec, path: `ray_spec.ports.${key}`, shared: true });
  }
  const min = pinned.get('min_worker_port');
  const max = pinned.get('max_worker_port');
  pinned.delete('min_worker_port');
  pinned.delete('max_worker_port');
  single.push(...pinned.values());
  const out: NodePorts = { facts, single };
  if (min && max) out.range = { min, max };
  else if (min ?? max) out.lone = min ?? max;
  const address = asString(ray.node_ip_address) ?? facts.host;
  if (address !== undefined) out.address = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const cpus = usable(`${at}.num_cpus`, ray.num_cpus);
  if (cpus !== undefined) out.cpus = cpus;
  return out;
}

const words = (p: Port) => `${p.key} ${p.value}`;
const whose = (p: Port) =>
  p.path === undefined ? `the default ${p.key}` : p.shared ? `${p.path}` : `this node's ${p.key}`;

function checkOneNode(ports: NodePorts, error: (path: string, message: string, hint: string) => void): void {
  const extra = ports;
  if (extra.lone) {
    const other = extra.lone.key === 'min_worker_port' ? 'max_worker_port' : 'min_worker_port';
    error(
      extra.lone.path!,
      `${extra.lone.key} is set without ${other}: the worker port range needs both ends`,
      `add ${other} next to it (both in the node's ray_config, or both in ray_spec.ports)`,
    );
  }
  const range = ports.range;
  if (range) {
    const { min, max } = range;
    // a node's own end is what to fix when the other comes from ray_spec.ports
    const at = (!max.shared ? max : !min.shared ? min : max).path!;
    const need = Math.max(extra.cpus ?? 1, 1) + WORKER_PORT_MARGIN;
    const cpuWords =
      extra.cpus !== undefined
        ? `num_cpus ${extra.cpus}`
        : 'num_cpus is left out (Ray counts the CPUs when it starts), so at least 1';
    if (min.value > max.value) {
      error(
        at,
        at === min.path
          ? `min_worker_port ${min.value} is above max_worker_port ${max.value} (${max.path})`
          : `max_worker_port ${max.value} is below min_worker_port ${min.value}`,
        `the worker ports are min_worker_port..max_worker_port: set max_worker_port to at least ${min.value + need - 1}`,
      );
    } else if (max.value - min.value + 1 < need) {
      error(
        at,
        `the worker port range ${min.value}-${max.value} holds ${max.value - min.value + 1} ports, but this node needs at least ${need}: ${cpuWords} for tasks, plus ${WORKER_PORT_MARGIN} for drivers, actors and Ray's own workers (each worker process binds one port)`,
        `set max_worker_port to ${min.value + need - 1} or more`,
      );
    }
  }
  const { single } = ports;
  for (let a = 0; a < single.length; a++) {
    for (let b = a + 1; b < single.length; b++) {
      const first = single[a]!;
      const second = single[b]!;
      // two of the head's own three: node-checks.ts says it
      if (first.value !== second.value || (isHeadKey(first.key) && isHeadKey(second.key))) continue;
      // the node's own value, else the later of two written ones (a clash with a default is fixed at the written one)
      const own = [second, first].find((p) => p.path !== undefined && !p.shared);
      const blamed = own ?? (second.path !== undefined ? second : first);
      const other = blamed === second ? first : second;
      error(
        blamed.path!,
        `${words(blamed)} is also ${whose(other)}: Ray refuses to start when two of its components share a port`,
        'give every port of a node its own number',
      );
    }
    const port = single[a]!;
    if (range && range.min.value <= range.max.value && port.value >= range.min.value && port.value <= range.max.value) {
      error(
        port.path ?? range.min.path!,
        `${words(port)} lies in the worker port range ${range.min.value}-${range.max.value} (min_worker_port..max_worker_port): Ray refuses to start when two of its components share a port`,
        `move ${port.key} out of the range, or the range away from it`,
      );
    }
  }
}

const isHeadKey = (key: string) => key === 'port' || key === 'gcs_port' || key === 'dashboard_port';

/** Two nodes on one address (containers behind SSH port forwarding) share its ports: none may be taken twice. */
function checkOneHost(
  all: NodePorts[],
  ctx: PortCheckContext,
  error: (path: string, message: string, hint: string) => void,
): void {
  const byAddress = new Map<string, NodePorts[]>();
  for (const n of all) {
    if (n.address === undefined) continue;
    byAddress.set(n.address, [...(byAddress.get(n.address) ?? []), n]);
  }
  const label = (f: NodeFacts) =>
    `${f.name !== undefined ? `node ${f.name}` : `nodes[${f.index}]`} (line ${ctx.index.positionOf(`nodes[${f.index}]`).line})`;
  for (const [address, group] of byAddress) {
    for (let j = 1; j < group.length; j++) {
      const later = group[j]!;
      for (const earlier of group.slice(0, j)) {
        const taken = (p: number, n: NodePorts) =>
          n.single.find((q) => q.value === p) ??
          (n.range && p >= n.range.min.value && p <= n.range.max.value ? n.range.min : undefined);
        let clash: { mine: Port; theirs: Port } | undefined;
        for (const mine of later.single) {
          const theirs = taken(mine.value, earlier);
          if (theirs) clash = { mine, theirs };
          if (clash) break;
        }
        if (!clash && later.range && earlier.range) {
          const overlap =
            later.range.min.value <= earlier.range.max.value && earlier.range.min.value <= later.range.max.value;
          if (overlap) clash = { mine: later.range.min, theirs: earlier.range.min };
        }
        if (!clash) continue;
        const { mine, theirs } = clash;
        const what = (p: Port, n: NodePorts) =>
          p.key === 'min_worker_port' && n.range
            ? `the worker port range ${n.range.min.value}-${n.range.max.value}`
            : words(p);
        const path = mine.path !== undefined && !mine.shared ? mine.path : `nodes[${later.facts.index}]`;
        error(
          path,
          `${label(later.facts)} and ${label(earlier.facts)} are both on ${address}: ${what(mine, later)} here collides with ${what(theirs, earlier)} there${mine.shared ? ` (both from ray_spec.ports)` : ''}`,
          `nodes on one address need their own ports: set other ports in one node's ray_config`,
        );
        break;
      }
    }
  }
}
