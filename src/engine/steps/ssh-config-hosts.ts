// `ssh_url: gpu-box-1` naming a Host of ~/.ssh/config means what `ssh gpu-box-1` means: the node's
// address (node_ip_address's default, the head address workers join, the head-address output, the
// dashboard URL, status) is that Host's HostName, never the alias only this machine knows.
import type { ClusterConfig } from '../../config/types';
import { configuredHostName, type SshOptions } from '../../ssh';
import type { Reporter } from '../types';

/** Puts each node's ssh config HostName in `host`, keeping the alias in `sshAlias` (in place). */
export function useSshConfigHostNames(
  cluster: ClusterConfig,
  ssh: SshOptions,
  reporter: Pick<Reporter, 'debug'>,
): void {
  if (!ssh.hostSettings) return;
  for (const node of cluster.nodes) {
    const alias = node.sshAlias ?? node.host;
    let hostName: string | undefined;
    try {
      hostName = configuredHostName(alias, ssh);
    } catch {
      continue; // a bad entry (Port, ProxyJump) is reported by the connect step, on the node
    }
    if (!hostName || hostName === alias) continue;
    node.sshAlias = alias;
    node.host = hostName;
    reporter.debug(`[${node.name}] ssh_url ${node.sshUrl}: Host ${alias} of the ssh config, HostName ${hostName}`);
  }
}
