// SSH to the nodes: connect (host key verification, auth selection), run commands, move files.
export { connectNode, type ConnectContext } from './connect';
export { JumpHosts } from './jump';
export { configuredHostName } from './ssh-config';
export type { HostSettings, JumpHop, PrivateKeySource, SshLog, SshOptions, SshTarget, SshUser } from './types';
export type { NodeConnection, ExecOptions, ExecResult } from './connection';
export { SshError, isSshError, type SshErrorKind } from './errors';
export type { AcceptedHostKey } from './host-key';
export { parseKnownHosts, checkHostKey, hostFieldMatches, hashHostName, type KnownHosts } from './known-hosts';
export { fingerprint, knownHostsLine, parsePublicKeyLine } from './public-key';
export { shellQuote, shellJoin } from './quote';
