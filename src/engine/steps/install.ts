// ray_spec.install: before the preflight checks, every node whose Ray is missing or another version
// gets ray[<extras>]==<ray_version> in a venv under its storage path, in parallel, with progress per
// node. A node that has the right Ray already installs nothing.
import type { NodeSpec } from '../../config/types';
import type { ProbeAnswer } from '../../remote/types';
import { mapLimit } from './concurrency';
import { nodeError, type ClusterSession } from './session';
import type { RunError } from '../types';

/** pip on a loaded node fetching Ray's ~70 MB wheel and its dependencies. */
const INSTALL_TIMEOUT_SEC = 1800;

/** The nodes that need an install, by their probe: no Ray, or another version than ray_version. */
export function nodesToInstall(session: ClusterSession, probes: Map<string, ProbeAnswer>): NodeSpec[] {
  const { cluster } = session;
  if (!cluster.install || !cluster.rayVersion) return [];
  return cluster.nodes.filter((n) => {
    const p = probes.get(n.name);
    return p?.ok && (!p.ray || p.ray.version !== cluster.rayVersion);
  });
}

/** Installs Ray on `nodes` in parallel; returns one error per node that failed (its old Ray untouched). */
export async function installRay(session: ClusterSession, nodes: NodeSpec[]): Promise<RunError[]> {
  const { cluster, options } = session;
  const install = cluster.install!;
  const version = cluster.rayVersion!;
  const errors: RunError[] = [];
  const extras = install.extras.length ? `[${install.extras.join(',')}]` : '';
  await mapLimit(nodes, options.concurrency, async (node) => {
    const h = session.handle(node);
    const t0 = Date.now();
    options.reporter.node(node.name, `installing ray${extras}==${version} (pip, into a venv in its storage)`);
    try {
      const answer = await h.lib!.install(
        {
          base_python: cluster.python ?? 'python3',
          ray_version: version,
          extras: install.extras,
          index_url: install.indexUrl ?? null,
          find_links: install.findLinks ?? null,
          timeout_sec: INSTALL_TIMEOUT_SEC,
        },
        (INSTALL_TIMEOUT_SEC + 60) * 1000,
      );
      if (!answer.ok) {
        const tail = (answer.log_tail ?? '').trimEnd();
        errors.push({
          node: node.name,
          host: node.sshUrl,
          message: `installing Ray ${version} failed: ${answer.error ?? 'unknown error'}; the node's previous Ray is left as it was\n  command: ${answer.command ?? '?'}${tail ? `\n  last lines of its output:\n${tail.replace(/^/gm, '    ')}` : ''}`,
          hint: answer.hint ?? 'check ray_spec.ray_version and ray_spec.install (index_url, find_links)',
        });
        options.reporter.node(node.name, `install failed: ${answer.error}`, Date.now() - t0);
        return;
      }
      options.reporter.node(
        node.name,
        answer.installed ? `installed Ray ${version}` : `Ray ${version} already installed`,
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
