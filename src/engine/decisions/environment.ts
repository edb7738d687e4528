// The cluster's packages on each node, judged (pure): a pin against Ray's is an error, a node whose
// packages differ is drift (repaired by `start` in the venv nokube manages, only reported in an
// environment the operator manages), and whether the repair restarts the node's Ray.
//
// A restart only when a package Ray itself depends on changes version: Ray's own processes (raylet's
// agents, the dashboard, every worker's `import ray`) imported those at start and keep them. Any other
// package is imported by the job's code: a new job's workers import it fresh; a long-lived actor keeps
// the version it loaded until it is restarted, which a node restart would do to every actor at once.
import type { ClusterConfig } from '../../config/types';
import type { PackageDrift, PackagesAnswer } from '../../remote/types';
import type { Drift, RunError } from '../types';
import type { LiveNode } from './plan-diff';

export interface NodeEnvironment {
  /** Drift entries for the plan, one a package. */
  drift: Drift[];
  /** The repair changes a package Ray's running processes imported. */
  restart: boolean;
  /** nokube manages the environment (a venv under the storage path): `start` repairs it. */
  managed: boolean;
}

export interface EnvironmentJudgement {
  nodes: Map<string, NodeEnvironment>;
  errors: RunError[];
  warnings: string[];
}

const norm = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

export function packageWords(d: PackageDrift): string {
  if (d.state === 'missing') return `${d.name} missing${d.want ? ` (wanted ${d.want})` : ''}`;
  if (d.state === 'version') return `${d.name} ${d.have} (wanted ${d.want})`;
  return `${d.name} ${d.have} shadows another copy (${(d.locations ?? []).join(', ')})`;
}

export function judgeEnvironment(cluster: ClusterConfig, answers: Map<string, PackagesAnswer>): EnvironmentJudgement {
  const out: EnvironmentJudgement = { nodes: new Map(), errors: [], warnings: [] };
  for (const node of cluster.nodes) {
    const a = answers.get(node.name);
    if (!a?.ok || !a.ray) continue;
    for (const c of a.conflicts ?? []) {
      out.errors.push({
        node: node.name,
        host: node.host,
        message: `${c.name}==${c.version} in ray_spec.install conflicts with Ray ${a.ray_version}: ${c.by} needs ${c.name}${c.ray_needs}`,
        hint: `pin ${c.name} to a version that satisfies ${c.ray_needs}, or leave it out (Ray installs one)`,
      });
    }
    const drift = a.drift ?? [];
    if (!drift.length) continue;
    const rayDeps = new Set((a.ray_deps ?? []).map(norm));
    const restart = !!a.managed && drift.some((d) => d.state === 'version' && rayDeps.has(norm(d.name)));
    out.nodes.set(node.name, {
      managed: !!a.managed,
      restart,
      drift: drift.map((d) => ({
        field: `package ${d.name}`,
        from: d.state === 'missing' ? '(missing)' : d.state === 'shadowed' ? `${d.have} (shadowed)` : (d.have ?? ''),
        to: d.want ?? 'any version',
      })),
    });
    if (!a.managed) {
      out.warnings.push(
        `${node.name}: its Python environment (${a.python}) is managed outside nokube, which installs nothing there; it differs from ray_spec.install: ${drift.map(packageWords).join(', ')}`,
      );
    }
  }
  return out;
}

/** The managed nodes' package drift onto the live view the plan is made from. */
export function withPackageDrift(live: Map<string, LiveNode>, judged: EnvironmentJudgement): Map<string, LiveNode> {
  for (const [name, env] of judged.nodes) {
    const now = live.get(name);
    if (now && env.managed) now.packages = { drift: env.drift, restart: env.restart };
  }
  return live;
}
