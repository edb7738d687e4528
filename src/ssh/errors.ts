// One error type for everything that goes wrong talking to a node over SSH. Each carries what the
// user needs to act: which node, host and user, which auth methods were tried, and a hint.
// Messages never contain secrets: they are built from labels, fingerprints and public keys only.

export type SshErrorKind =
  | 'unreachable' // TCP connect / DNS failed, or the connection dropped
  | 'timeout' // handshake, command or abort deadline passed
  | 'auth' // every login method of every user was refused
  | 'host-key' // the host's key is unknown (or revoked): fail closed
  | 'host-key-changed' // the host is known with another key of that type
  | 'exec' // a command could not be run (channel refused, ...)
  | 'sftp' // a file transfer step failed
  | 'config'; // our inputs cannot work (no user, key not supplied, bad passphrase, unset ${VAR})

export interface SshErrorFields {
  kind: SshErrorKind;
  node: string;
  host: string;
  port: number;
  user?: string;
  methodsTried?: string[];
  hint: string;
  fingerprint?: string;
  knownHostsLine?: string;
  /** kind host-key: true when nothing is on record for the host (not a @revoked key): it may be asked about. */
  unknownKey?: boolean;
  cause?: unknown;
}

export class SshError extends Error {
  readonly kind: SshErrorKind;
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly methodsTried?: string[];
  readonly hint: string;
  readonly fingerprint?: string;
  readonly knownHostsLine?: string;
  readonly unknownKey?: boolean;

  constructor(message: string, fields: SshErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'SshError';
    this.kind = fields.kind;
    this.node = fields.node;
    this.host = fields.host;
    this.port = fields.port;
    this.hint = fields.hint;
    if (fields.user !== undefined) this.user = fields.user;
    if (fields.methodsTried !== undefined) this.methodsTried = fields.methodsTried;
    if (fields.fingerprint !== undefined) this.fingerprint = fields.fingerprint;
    if (fields.knownHostsLine !== undefined) this.knownHostsLine = fields.knownHostsLine;
    if (fields.unknownKey) this.unknownKey = true;
  }
}

export function isSshError(err: unknown): err is SshError {
  return err instanceof SshError;
}

/** `host:port`, with brackets for IPv6 (the way a user writes it in ssh_url). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What to try when the transport (not the login) failed, by the socket error code. */
export function transportHint(code: string | undefined, host: string, port: number): string {
  const hp = hostPort(host, port);
  switch (code) {
    case 'ECONNREFUSED':
      return `is sshd running on ${hp}? check the ssh_url port`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name ${host} does not resolve from here: check the ssh_url host, or use its IP address`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${host}: is the machine up and on a network this runner can reach (VPN, firewall, self-hosted runner)?`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${hp} closed the connection: check sshd's logs on the node (MaxStartups, AllowUsers, fail2ban)`;
    case 'ETIMEDOUT':
    case 'timeout':
      return `no SSH answer from ${hp} in time: is the host up, is port ${port} open in its firewall? (raise it with --timeout / timeout)`;
    default:
      return `check that ${hp} is reachable from here: ssh -v -p ${port} user@${host}`;
  }
}

export function authHint(host: string, port: number, user: string): string {
  return (
    `check the user and key (or password) for this node; run \`ssh -v ${user}@${host} -p ${port}\` ` +
    'to see what the server accepts, and `ssh-add -l` to list agent keys'
  );
}
