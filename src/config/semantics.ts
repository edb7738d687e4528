// Checks across nodes: exactly one head, unique names and ssh_urls, max_workers, shared state on one host.
import type { Findings } from './diagnostics';
import { checkGcsFaultTolerance } from './gcs-fault-tolerance';
import { checkNode, checkProxyJump, type NodeFacts } from './node-checks';
import { checkPackageIndex } from './package-index';
import { asInteger, asList, asMap } from './plain';
import { checkPorts } from './port-checks';
import { endpointKey } from './ssh-url';
import type { SourceIndex } from './yaml/source-index';

export interface SemanticOptions {
  defaultUser?: string;
  env?: Record<string, string | undefined>;
  allowMissingEnv?: boolean;
}

export function checkSemantics(
  root: unknown,
  index: SourceIndex,
  findings: Findings,
  shapeProblems: Set<string>,
  opts: SemanticOptions,
): void {
  const top = asMap(root);
  if (!top) return;
  const raySpec = asMap(top.ray_spec);
  const clusterDashboardPort = shapeProblems.has('ray_spec.dashboard_port')
    ? undefined
    : asInteger(raySpec?.dashboard_port);
  const ctx = { findings, index, shapeProblems, clusterDashboardPort, ...opts };

  if (raySpec) checkProxyJump(raySpec, 'ray_spec', ctx);
  checkPackageIndex(raySpec, findings);
  checkGcsFaultTolerance(raySpec, ctx);

  const facts: NodeFacts[] = [];
  asList(top.nodes).forEach((entry, i) => {
    const node = asMap(entry);
    if (node) facts.push(checkNode(node, i, ctx));
  });
  if (!Array.isArray(top.nodes) || facts.length === 0) return;

  const line = (path: string) => index.positionOf(path).line;
  const label = (f: NodeFacts) =>
    f.name !== undefined
      ? `node ${f.name} (line ${line(`nodes[${f.index}]`)})`
      : `nodes[${f.index}] (line ${line(`nodes[${f.index}]`)})`;

  // A misspelt role was reported already; "no head" on top of it would only repeat the same mistake.
  const everyRoleKnown = facts.length === asList(top.nodes).length && facts.every((f) => f.role !== undefined);
  const heads = facts.filter((f) => f.role === 'head');
  if (heads.length === 0 && everyRoleKnown) {
    findings.error('nodes', 'there is no head: exactly one node needs role: head', {
      at: 'key',
      hint: 'set role: head on the node that should run the GCS, the dashboard and the Ray Client server',
    });
  }
  for (const extra of heads.slice(1)) {
    findings.error(`nodes[${extra.index}].role`, `a second head: ${label(heads[0]!)} is already the head`, {
      hint: 'a cluster has exactly one head: set role: worker here',
    });
  }

  checkPorts(top, facts, ctx);

  const names = new Map<string, NodeFacts>();
  for (const f of facts) {
    if (f.name === undefined) continue;
    // Names reach file names and logs, where `Head` and `head` would be confused.
    const key = f.name.toLowerCase();
    const first = names.get(key);
    if (first) {
      findings.error(`nodes[${f.index}].name`, `the name "${f.name}" is already used by ${label(first)}`, {
        hint: 'node names must be unique (ignoring case): rename one of them',
      });
    } else names.set(key, f);
  }

  // One Ray node per machine: two entries reaching the same host and SSH port are the same machine, and
  // two raylets of one cluster there would share Ray's session directory and be stopped together.
  // The same host with different SSH ports is allowed (containers or VMs behind port forwarding).
  const endpoints = new Map<string, NodeFacts>();
  for (const f of facts) {
    if (f.host === undefined || f.sshPort === undefined) continue;
    const key = endpointKey(f.host, f.sshPort);
    const first = endpoints.get(key);
    if (first) {
      findings.error(`nodes[${f.index}].ssh_url`, `this ssh_url reaches the same host and port as ${label(first)}`, {
        hint: 'each node is one machine: fix the host or port, or remove the duplicate node',
      });
    } else endpoints.set(key, f);
  }

  // Same host, different SSH ports: if they are in fact one machine, an identical storage path would
  // make the two nodes share state, lock and logs. A default path is allowed, it differs per login user.
  const storage = new Map<string, NodeFacts>();
  for (const f of facts) {
    if (f.host === undefined || f.storagePath === undefined) continue;
    const key = `${f.host.toLowerCase()}\u0000${f.storagePath}`;
    const first = storage.get(key);
    if (first && endpointKey(first.host!, first.sshPort!) !== endpointKey(f.host, f.sshPort!)) {
      findings.error(
        `nodes[${f.index}].storage.path`,
        `the same storage path on host ${f.host} as ${label(first)}: the two nodes would share their state`,
        {
          hint: 'give each node its own storage.path',
        },
      );
    } else if (!first) storage.set(key, f);
  }

  // The tool installs exactly one version: without it, "install Ray" has no answer to "which one".
  if (raySpec && 'install' in raySpec && raySpec.ray_version === undefined) {
    findings.error('ray_spec.install', 'install needs ray_version: which Ray to install on the nodes', {
      at: 'key',
      hint: 'add ray_version: "2.60.0" (in quotes) under ray_spec',
    });
  }

  const maxWorkers = shapeProblems.has('ray_spec.max_workers') ? undefined : asInteger(raySpec?.max_workers);
  const workers = facts.filter((f) => f.role === 'worker');
  if (maxWorkers !== undefined && workers.length > maxWorkers) {
    const firstExtra = workers[maxWorkers]!;
    findings.error(
      `nodes[${firstExtra.index}]`,
      `${workers.length} worker nodes, but ray_spec.max_workers (line ${line('ray_spec.max_workers')}) allows ${maxWorkers}`,
      {
        hint: `raise ray_spec.max_workers to ${workers.length}, or remove worker nodes`,
      },
    );
  }
}
