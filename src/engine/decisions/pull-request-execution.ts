// A live plan on a pull request runs programs on the nodes with the repository's credentials: the
// interpreter (`ray_spec.python`), the Ray venv `ray_spec.install` makes, and the storage paths the
// library is uploaded to and run from. The pull request could name any program or directory there, so
// these are the base branch's (its defaults when the base has no config); what the pull request changes
// them to is planned, never run. Like the host_key pins (pinned-host-keys.ts).
import type { ClusterConfig, NodeSpec } from '../../config/types';

/** What runs on a node, and from where: the remote library's settings. */
export interface NodeExecution {
  /** `ray_spec.python`; undefined: python3. */
  python?: string;
  /** The Ray version of a tool-installed venv to run instead (ray_spec.install). */
  rayVenv?: string;
  /** `storage.path`; undefined: ~/.nokube/<cluster_name>. */
  storage?: string;
}

/** A config's own settings for a node. */
export function ownExecution(cluster: ClusterConfig, node: NodeSpec): NodeExecution {
  return {
    python: cluster.python,
    rayVenv: cluster.install ? cluster.rayVersion : undefined,
    storage: node.storage.path,
  };
}

export interface ExecutionReview {
  /** Per node name: what runs there during the live look. */
  nodes: Map<string, NodeExecution>;
  /** One line when the pull request changes any of it (what was run, and what it asks for instead). */
  note?: string;
}

const shown = (v: string | undefined, unset: string) => (v === undefined ? unset : v);

/**
 * The base's settings for every node of `cluster`: the base node of the same name gives its storage
 * path; a node the base lacks gets the default storage.
 */
export function baseExecution(cluster: ClusterConfig, base: ClusterConfig | undefined): ExecutionReview {
  const nodes = new Map<string, NodeExecution>();
  const changed: string[] = [];
  const basePython = base?.python;
  const baseVenv = base?.install ? base.rayVersion : undefined;
  if (cluster.python !== basePython)
    changed.push(
      `ray_spec.python ${shown(basePython, '(unset: python3)')} (this pull request: ${shown(cluster.python, '(unset: python3)')})`,
    );
  const prVenv = cluster.install ? cluster.rayVersion : undefined;
  if (prVenv !== baseVenv)
    changed.push(
      `ray_spec.install ${baseVenv ? `Ray ${baseVenv}` : '(none)'} (this pull request: ${prVenv ? `Ray ${prVenv}` : '(none)'})`,
    );
  for (const node of cluster.nodes) {
    const before = base?.nodes.find((b) => b.name === node.name);
    const storage = before?.storage.path;
    nodes.set(node.name, { python: basePython, rayVenv: baseVenv, storage });
    if (node.storage.path !== storage)
      changed.push(
        `${node.name} storage.path ${shown(storage, '(default)')} (this pull request: ${shown(node.storage.path, '(default)')})`,
      );
  }
  const whose = base ? "the base branch's" : 'the default (the base branch has no config)';
  const note = changed.length
    ? `the live look ran ${whose} interpreter and storage on the nodes, not this pull request's (a pull request does not choose what runs there): ${changed.join('; ')}`
    : undefined;
  return { nodes, ...(note ? { note } : {}) };
}
