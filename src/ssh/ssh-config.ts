// What `~/.ssh/config` (or the ssh-config input) says for a host name, applied to a target: its
// HostName, Port, User, IdentityFile keys and UserKnownHostsFile. The front ends read the file with
// src/config/ssh-config/; the SSH part asks SshOptions.hostSettings about a name.
import type { JumpHop, SshOptions, SshTarget } from './types';

/**
 * A target as its ssh config entry says to reach it: HostName and Port (a port written in
 * ssh_url or the hop other than the default 22 wins), the User as the default login, IdentityFile
 * keys first, UserKnownHostsFile besides known_hosts. `proxyJump` is the entry's ProxyJump.
 */
export function applyHostSettings<T extends SshTarget>(
  target: T,
  opts: SshOptions,
): { target: T; opts: SshOptions; proxyJump?: JumpHop[] } {
  const s = opts.hostSettings?.(target.host);
  if (!s) return { target, opts };
  const resolved: T = { ...target, host: s.hostName ?? target.host };
  if (s.port !== undefined && target.sshPort === 22) resolved.sshPort = s.port;
  const withSettings: SshOptions = { ...opts, identities: [...s.identities, ...opts.identities] };
  if (s.user) withSettings.defaultUser = s.user;
  if (s.knownHosts) withSettings.knownHosts = `${s.knownHosts}\n${opts.knownHosts}`;
  return { target: resolved, opts: withSettings, ...(s.proxyJump ? { proxyJump: s.proxyJump } : {}) };
}

/** The HostName the ssh config gives `host` (what `ssh host` connects to), if it gives one. */
export function configuredHostName(host: string, opts: SshOptions): string | undefined {
  return opts.hostSettings?.(host)?.hostName;
}
