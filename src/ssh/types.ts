// What the SSH part takes from its caller: the hosts to reach (targets, jump hops, logins), the
// credentials and trust settings of a run, and where its lines go. Its own types: the engine turns
// its config nodes into these (src/engine/ssh-target.ts); the reporter it passes has these methods.

/** One hop of a jump chain (OpenSSH's ProxyJump, `ssh -J`), parsed: `[user@]host[:port]`. */
export interface JumpHop {
  /** The login user the hop names; else the run's default user. */
  user?: string;
  host: string;
  port: number;
}

/**
 * One login to try on a target: the user and its one way in (a password, or the public key line
 * that picks the supplied private key). Values may hold `${NAME}`, read from the environment at login.
 */
export interface SshUser {
  userid: string;
  password?: string;
  sshkey?: string;
}

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
 * What the SSH part connects to: a node, or a jump host on the way to one. `label` names anything
 * but a node in messages ("jump host admin@bastion:22").
 */
export interface SshTarget {
  name: string;
  /** As the user wrote it: a name of the ssh config (its HostName applies), a host name or an address. */
  host: string;
  sshPort: number;
  /** Logins in the order to try them; empty: the default user with the supplied keys and the agent. */
  users: SshUser[];
  /** Pinned host key ("ssh-ed25519 AAAA...") or "SHA256:..." fingerprint. */
  hostKey?: string;
  /**
   * Jump hosts to reach it through, first hop first. [] = directly; undefined = its ssh config
   * entry's ProxyJump, else the run's (SshOptions.proxyJump).
   */
  proxyJump?: JumpHop[];
  label?: string;
}

/** "node gpu-1", or the target's own label. */
export function describeTarget(t: SshTarget): string {
  return t.label ?? `node ${t.name}`;
}
