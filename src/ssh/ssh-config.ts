// `~/.ssh/config` (the CLI; the Action with its `ssh-config` input): `Host` blocks give a name its
// HostName, User, Port, IdentityFile, ProxyJump and UserKnownHostsFile, read as OpenSSH reads them
// (the first value wins, `Host *` supplies defaults, `Include` read in place). Parsed by the
// `ssh-config` package; `Match` blocks are skipped with a debug note (Match exec would run commands).
import SSHConfig, { glob } from 'ssh-config';
import { readIncludes } from './ssh-config-include';
import { parseProxyJump } from '../config/proxy-jump';
import type { JumpHop } from '../config/types';
import type { HostSettings, PrivateKeySource, SshOptions, SshTarget } from './types';

export interface SshConfigSource {
  /** The file's text. */
  text: string;
  /** For messages: "~/.ssh/config", "ssh-config input". */
  label: string;
  /** The login user's home, for `~/` in IdentityFile and UserKnownHostsFile. */
  home: string;
  /** Reads an IdentityFile / UserKnownHostsFile / Include (the front end does the I/O). */
  readFile(path: string): string;
  /** The names in a directory (for Include's globs). */
  listDir(path: string): string[];
  debug(message: string): void;
  /** Registers a private key read from an IdentityFile as a secret. */
  secret(value: string): void;
}

type Computed = Record<string, string | string[] | undefined>;

/** The per-host settings function for SshOptions.hostSettings. */
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
    out.identities.push({ label: `${path} (IdentityFile in ${src.label})`, key } satisfies PrivateKeySource);
  }
  const jump = first(c, 'proxyjump');
  if (jump) {
    const parsed = parseProxyJump(jump);
    if (!parsed.ok) throw new Error(`${src.label}: ProxyJump for Host ${host}: ${parsed.message} (${parsed.hint})`);
    out.proxyJump = parsed.hops satisfies JumpHop[];
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
