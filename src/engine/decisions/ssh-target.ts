// The engine's one bridge from the config to the SSH part: a node as the SSH part reaches it. The
// SSH part looks a node up by the name ssh_url gives (an ssh config Host), not by the HostName the
// engine put in `host` for Ray and the user (ssh-config-hosts.ts).
import type { NodeSpec } from '../../config/types';
import type { SshTarget } from '../../ssh';

export function sshTarget(node: NodeSpec): SshTarget {
  return {
    name: node.name,
    host: node.sshAlias ?? node.host,
    sshPort: node.sshPort,
    users: node.users.map(({ userid, password, sshkey }) => ({ userid, password, sshkey })),
    hostKey: node.hostKey,
    proxyJump: node.proxyJump,
  };
}
