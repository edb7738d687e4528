// What the day-two commands (logs, dashboard, ...) share: the config read once, the nodes the user
// named checked against it, and one session to the chosen nodes.
import { loadConfig } from '../../config';
import type { ClusterConfig, Diagnostic, NodeSpec } from '../../config/types';
import { ClusterSession, type SessionOptions } from './session';
import { useSshConfigHostNames } from './ssh-config-hosts';
import type { RunError } from '../types';

/** A day-two command's options: a run's, without what only plan/start read. */
export type AccessOptions = Omit<SessionOptions, 'previousConfigText' | 'offline'>;

export type OpenedCluster =
  | { cluster: ClusterConfig; session: ClusterSession<AccessOptions>; diagnostics: Diagnostic[] }
  | { cluster?: undefined; session?: undefined; diagnostics: Diagnostic[] };

/** Reads the config; a session only when it is valid (its diagnostics say why not). */
export function openCluster(options: AccessOptions): OpenedCluster {
  const parsed = loadConfig(options.configPath, { defaultUser: options.ssh.defaultUser });
  if (!parsed.config) return { diagnostics: parsed.diagnostics };
  useSshConfigHostNames(parsed.config, options.ssh, options.reporter);
  return {
    cluster: parsed.config,
    session: new ClusterSession(parsed.config, options),
    diagnostics: parsed.diagnostics,
  };
}

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
