// `~/.ssh/config` (the CLI; the Action with its `ssh-config` input): `Host` blocks give a name its
// HostName, User, Port, IdentityFile, ProxyJump and UserKnownHostsFile, read as OpenSSH reads them
// (the first value wins, `Host *` supplies defaults, `Include` read in place). Parsed by the
// `ssh-config` package; `Match` blocks are skipped with a debug note (Match exec would run commands).
// What it gives is what the SSH part takes as SshOptions.hostSettings: ProxyJump parsed into hops.
import SSHConfig, { glob } from 'ssh-config';
import { readIncludes, type SshConfigSource } from './include';
import { parseProxyJump } from '../proxy-jump';
import type { JumpHop } from '../types';

/** One host's `Host` settings (first value wins). */
export interface HostSettings {
  hostName?: string;
  port?: number;
  user?: string;
  /** Keys from IdentityFile (label for messages, the key itself never shown). */
  identities: { label: string; key: string }[];
  proxyJump?: JumpHop[];
  /** Contents of UserKnownHostsFile. */
  knownHosts?: string;
}

type Computed = Record<string, string | string[] | undefined>;

/** What the file says for a host name, as OpenSSH would read it (the SSH part's hostSettings). */
export function sshConfigSettings(src: SshConfigSource): (host: string) => HostSettings | undefined {
  const directives = readIncludes(src);
  const cache = new Map<string, HostSettings | undefined>();
  return (host: string) => {
    if (cache.has(host)) return cache.get(host);
    // The directives whose Host lines (each enclosing one, with Include inside Host) match, in file
    // order: the package's compute then applies first-value-wins and the repeatable keys.
    const kept = new SSHConfig();
    for (const d of directives) if (d.hosts.every((patterns) => matchesHost(patterns, host))) kept.push(d.line);
    const c = kept.compute(host, { ignoreCase: true }) as Computed;
    const settings = toSettings(host, c, src);
    cache.set(host, settings);
    if (settings) src.debug(`${src.label}: Host ${host} → ${describe(settings)}`);
    return settings;
  };
}

/** OpenSSH compares Host patterns with the name as typed, ignoring case. */
function matchesHost(patterns: string[], host: string): boolean {
  return glob(
    patterns.map((p) => p.toLowerCase()),
    host.toLowerCase(),
  );
}

function first(c: Computed, key: string): string | undefined {
  const v = c[key];
  return Array.isArray(v) ? v[0] : v;
}

function all(c: Computed, key: string): string[] {
  const v = c[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(/\s+/)).filter(Boolean);
}

/** OpenSSH's `~` and the few %-tokens that make sense here. */
function expand(path: string, host: string, src: SshConfigSource, user?: string): string {
  return path
    .replace(/^~(?=\/|$)/, src.home)
    .replace(/%(.)/g, (m, t: string) =>
      t === '%' ? '%' : t === 'h' ? host : t === 'd' ? src.home : t === 'r' && user ? user : m,
    );
}

function toSettings(host: string, c: Computed, src: SshConfigSource): HostSettings | undefined {
  const out: HostSettings = { identities: [] };
  const hostName = first(c, 'hostname');
  if (hostName) out.hostName = expand(hostName, host, src);
  const user = first(c, 'user');
  if (user) out.user = user;
  const port = first(c, 'port');
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      throw new Error(`${src.label}: Port "${port}" for Host ${host} is not a port number (1-65535)`);
    out.port = Number(port);
  }
  for (const file of all(c, 'identityfile')) {
    const path = expand(file, host, src, out.user);
    let key: string;
    try {
      key = src.readFile(path);
    } catch (err) {
      // OpenSSH skips IdentityFiles that do not exist (Host * often lists several).
      src.debug(`${src.label}: IdentityFile ${path} for Host ${host}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      continue;
    }
    src.secret(key);
    out.identities.push({ label: `${path} (IdentityFile in ${src.label})`, key });
  }
  const jump = first(c, 'proxyjump');
  if (jump) {
    const parsed = parseProxyJump(jump);
    if (!parsed.ok) throw new Error(`${src.label}: ProxyJump for Host ${host}: ${parsed.message} (${parsed.hint})`);
    out.proxyJump = parsed.hops;
  }
  const knownHosts: string[] = [];
  for (const file of all(c, 'userknownhostsfile')) {
    const path = expand(file, host, src, out.user);
    try {
      knownHosts.push(src.readFile(path));
    } catch (err) {
      src.debug(`${src.label}: UserKnownHostsFile ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  }
  if (knownHosts.length) out.knownHosts = knownHosts.join('\n');
  const any =
    out.hostName || out.user || out.port !== undefined || out.identities.length || out.proxyJump || out.knownHosts;
  return any ? out : undefined;
}

function describe(s: HostSettings): string {
  const parts = [
    s.hostName && `HostName ${s.hostName}`,
    s.user && `User ${s.user}`,
    s.port !== undefined && `Port ${s.port}`,
    s.identities.length && `${s.identities.length} IdentityFile(s)`,
    s.proxyJump && `ProxyJump (${s.proxyJump.length} hop(s))`,
    s.knownHosts && 'UserKnownHostsFile',
  ];
  return parts.filter(Boolean).join(', ');
}
