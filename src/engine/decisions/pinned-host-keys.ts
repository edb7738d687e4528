// A pull request may change the config it is planned from. A live plan on a pull request logs in with
// the repository's credentials, so a `host_key` pin the pull request itself added or changed is not
// trusted (it could vouch for any machine): such a node is checked against known_hosts alone, or
// against the pin the base config had for the same node and address.
import type { ClusterConfig, NodeSpec } from '../../config/types';

export interface PinReview {
  /** The nodes to connect to, with every pin the change introduced taken away (or the base's restored). */
  nodes: NodeSpec[];
  /** One line per node whose pin was not trusted. */
  warnings: string[];
}

export function reviewHostKeyPins(cluster: ClusterConfig, base: ClusterConfig | undefined): PinReview {
  const warnings: string[] = [];
  const nodes = cluster.nodes.map((node) => {
    if (node.hostKey === undefined) return node;
    const before = base?.nodes.find((b) => b.name === node.name && b.host === node.host && b.sshPort === node.sshPort);
    if (before?.hostKey !== undefined && before.hostKey === node.hostKey) return node;
    warnings.push(
      `${node.name}: its host_key is ${before?.hostKey !== undefined ? 'changed' : 'new'} in this pull request, so it is not trusted for the live plan` +
        (before?.hostKey !== undefined ? ' (the base config’s pin is used)' : ' (known_hosts decides)'),
    );
    const { hostKey: _dropped, ...rest } = node;
    return before?.hostKey !== undefined ? { ...rest, hostKey: before.hostKey } : rest;
  });
  return { nodes, warnings };
}
