// What the SSH part takes from its caller: the credentials and trust settings of a run, and where
// its lines go. The engine passes its own reporter (it has these three methods).
import type { JumpHop, NodeSpec } from '../config/types';

/** A private key supplied by the user (Action input, --identity file). Never logged. */
export interface PrivateKeySource {
  /** Where it came from, for messages: "ssh-private-key input #1", "/home/u/.ssh/id_ed25519". */
  label: string;
  key: string;
}

export interface SshOptions {
  identities: PrivateKeySource[];
  passphrase?: string;
  /** ssh-agent socket (SSH_AUTH_SOCK), if any. */
  agentSocket?: string;
  /** Contents of known_hosts (input, --known-hosts file, ~/.ssh/known_hosts). */
  knownHosts: string;
  insecureSkipHostKeyCheck: boolean;
  /** Login user for nodes whose config has no `users`. */
  defaultUser?: string;
  /** Seconds to wait for a TCP connect + handshake. */
  connectTimeoutSec: number;
  /** Jump hosts for nodes whose config names none (--proxy-jump, the proxy-jump input). */
  proxyJump?: JumpHop[];
  /**
   * What `~/.ssh/config` (or the ssh-config input) says for a host name as written in ssh_url or
   * a jump hop; undefined = nothing.
   */
  hostSettings?: (host: string) => HostSettings | undefined;
  /** Log the SSH protocol negotiation too (the front end's debug mode). */
  protocolDebug?: boolean;
}

/** One host's `Host` settings from an ssh config file (first value wins). */
export interface HostSettings {
  hostName?: string;
  port?: number;
  user?: string;
  /** Keys from IdentityFile, tried before the run's own keys. */
  identities: PrivateKeySource[];
  proxyJump?: JumpHop[];
  /** Contents of UserKnownHostsFile, consulted besides the run's known_hosts. */
  knownHosts?: string;
}

/** Where the SSH part's lines go. */
export interface SshLog {
  /** Detail shown only in debug mode. */
  debug(message: string): void;
  /** Something the user should see (an unverified host key, an unusable key). */
  warn(message: string): void;
  /** Registers a value that must never be printed (a password, a key). */
  secret(value: string): void;
}

/**
 * What the SSH part connects to: a node, or a jump host on the way to one. A NodeSpec is one;
 * `label` names anything else in messages ("jump host admin@bastion:22").
 */
export interface SshTarget {
  name: string;
  host: string;
  sshPort: number;
  users: NodeSpec['users'];
  hostKey?: string;
  label?: string;
}

/** "node gpu-1", or the target's own label. */
export function describeTarget(t: SshTarget): string {
  return t.label ?? `node ${t.name}`;
}
