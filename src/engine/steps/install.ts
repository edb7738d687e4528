// ray_spec.install: before the preflight checks, every node whose Ray is missing or another version,
// or whose packages (ray_spec.install.requirements / packages) are not as required in the venv nokube
// manages, gets ray[<extras>]==<ray_version> and the packages in a venv under its storage path, in
// parallel, with progress per node. A node that has both right installs nothing; an environment the
// operator manages (ray_spec.python with Ray already there) is never changed.
import type { NodeSpec } from '../../config/types';
import type { PackagesAnswer, ProbeAnswer } from '../../remote/types';
import { mapLimit } from './concurrency';
import { nodeError, type ClusterSession, type NodeHandle } from './session';
import type { RunError } from '../types';

/** The cluster's packages on each reachable node with Ray (none asked without ray_spec.install). */
export async function lookAtPackages(
  session: ClusterSession,
  handles: NodeHandle[],
): Promise<Map<string, PackagesAnswer>> {
  const { cluster } = session;
  const out = new Map<string, PackagesAnswer>();
  if (!cluster.install) return out;
  await mapLimit(
    handles.filter((h) => h.lib),
    session.options.concurrency,
    async (h) => {
      try {
        const a = await h.lib!.packages({
          python: cluster.python ?? null,
          requirements: cluster.install!.requirements,
          extras: cluster.install!.extras,
        });
        if (a.ok) out.set(h.node.name, a);
        else session.options.reporter.debug(`${h.node.name}: packages: ${a.error}`);
      } catch (err) {
        session.options.reporter.debug(`${h.node.name}: packages: ${(err as Error).message}`);
      }
    },
  );
  return out;
}

/** The installer a node will use, in the plan's words. */
export function installerWords(answer: PackagesAnswer | undefined): string {
  return answer?.uv ? `uv (${answer.uv})` : 'uv from the package sources, else pip';
}

/**
 * The nodes that need an install: no Ray or another version than ray_version (by their probe), or
 * packages not as required in the venv nokube manages there.
 */
export function nodesToInstall(
  session: ClusterSession,
  probes: Map<string, ProbeAnswer>,
  packages: Map<string, PackagesAnswer> = new Map(),
): NodeSpec[] {
  const { cluster } = session;
  if (!cluster.install || !cluster.rayVersion) return [];
  return cluster.nodes.filter((n) => {
    const p = probes.get(n.name);
    if (!p?.ok) return false;
    if (!p.ray || p.ray.version !== cluster.rayVersion) return true;
    const env = packages.get(n.name);
    return !!env?.managed && (env.drift ?? []).some((d) => d.state !== 'shadowed');
  });
}

/** Installs Ray and the packages on `nodes` in parallel; one error per node that failed (its Ray untouched). */
export async function installRay(session: ClusterSession, nodes: NodeSpec[]): Promise<RunError[]> {
  const { cluster, options } = session;
  const install = cluster.install!;
  const version = cluster.rayVersion!;
  const errors: RunError[] = [];
  const extras = install.extras.length ? `[${install.extras.join(',')}]` : '';
  const what = install.requirements.length
    ? `ray${extras}==${version} and ${install.requirements.length} package${install.requirements.length === 1 ? '' : 's'}`
    : `ray${extras}==${version}`;
  await mapLimit(nodes, options.concurrency, async (node) => {
    const h = session.handle(node);
    const t0 = Date.now();
    options.reporter.node(node.name, `installing ${what} (into a venv in its storage)`);
    try {
      const answer = await h.lib!.install(
        {
          base_python: cluster.python ?? 'python3',
          ray_version: version,
          extras: install.extras,
          index_url: install.indexUrl ?? null,
          find_links: install.findLinks ?? null,
          timeout_sec: install.timeoutSec,
          requirements: install.requirements,
        },
        (install.timeoutSec + 60) * 1000,
      );
      if (!answer.ok) {
        const tail = (answer.log_tail ?? '').trimEnd();
        errors.push({
          node: node.name,
          host: node.sshUrl,
          message: `installing ${answer.package && !/^ray\b/.test(answer.package) ? `${answer.package} (with Ray ${version})` : install.requirements.length ? what : `Ray ${version}`} failed: ${answer.error ?? 'unknown error'}; the node's Ray is left as it was\n  command: ${answer.command ?? '?'}${tail ? `\n  last lines of its output:\n${tail.replace(/^/gm, '    ')}` : ''}`,
          hint: answer.hint ?? 'check ray_spec.ray_version and ray_spec.install (index_url, find_links, packages)',
        });
        options.reporter.node(node.name, `install failed: ${answer.error}`, Date.now() - t0);
        return;
      }
      const changed = (answer.changed ?? []).map((d) => `${d.name} ${d.have ?? '(missing)'} → ${d.want ?? 'any'}`);
      options.reporter.node(
        node.name,
        !answer.installed
          ? `Ray ${version} already installed`
          : changed.length
            ? `installed with ${answer.installer}: ${changed.join(', ')}`
            : `installed Ray ${version} with ${answer.installer}`,
        Date.now() - t0,
      );
    } catch (err) {
      const e = nodeError(node, err);
      errors.push({ ...e, message: `installing Ray ${version} failed: ${e.message}` });
      options.reporter.node(node.name, `install failed: ${e.message.split('\n')[0]}`, Date.now() - t0);
    }
  });
  return errors;
}
