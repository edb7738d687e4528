// The nodes a day-two command names with `--node`, checked against the config (logs).
import type { ClusterConfig, NodeSpec } from '../../config/types';
import type { RunError } from '../types';

/** A node name the config does not have (bad usage: exit 2). */
export class UnknownNodeError extends Error {
  constructor(
    readonly names: string[],
    readonly known: string[],
    configPath: string,
  ) {
    super(`${configPath} has no node named ${names.map((n) => `"${n}"`).join(', ')} (its nodes: ${known.join(', ')})`);
    this.name = 'UnknownNodeError';
  }
}

/** The nodes named by `--node` (in config order), or `fallback` when none are named. */
export function chooseNodes(cluster: ClusterConfig, names: string[], fallback: NodeSpec[]): NodeSpec[] {
  if (!names.length) return fallback;
  const unknown = names.filter((n) => !cluster.nodes.some((node) => node.name === n));
  if (unknown.length)
    throw new UnknownNodeError(
      unknown,
      cluster.nodes.map((n) => n.name),
      cluster.file,
    );
  return cluster.nodes.filter((n) => names.includes(n.name));
}

export function unknownNodeError(err: UnknownNodeError): RunError {
  return { message: err.message, hint: 'use a name from the config file (nodes[].name)' };
}
