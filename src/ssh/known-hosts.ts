// OpenSSH known_hosts, read the way `ssh` reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
// comma-separated host patterns with `*` / `?` wildcards and `!` negation, `[host]:port` names for
// ports other than 22, hashed `|1|salt|hash` names (HMAC-SHA1), `@revoked` and `@cert-authority`
// markers, several keys (types) per host.
import { createHmac } from 'node:crypto';
import { knownHostsName, parsePublicKeyLine, type PublicKey } from './public-key';

export interface KnownHostsEntry {
  /** 1-based line number, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (pattern list or hashed name). */
  hosts: string;
  key: PublicKey;
}

export interface KnownHosts {
  entries: KnownHostsEntry[];
  /** Lines that were skipped, and why (for debug output). */
  notes: string[];
}

export function parseKnownHosts(text: string): KnownHosts {
  const entries: KnownHostsEntry[] = [];
  const notes: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (!s || s.startsWith('#')) return;
    let rest = s;
    let marker: KnownHostsEntry['marker'];
    if (rest.startsWith('@')) {
      const m = /^@(\S+)\s+(.*)$/.exec(rest);
      const name = m?.[1];
      if (!m || (name !== 'revoked' && name !== 'cert-authority')) {
        notes.push(`known_hosts line ${line}: unknown marker ${s.split(/\s/)[0]}, line ignored`);
        return;
      }
      marker = name;
      rest = m[2];
    }
    const m = /^(\S+)\s+(.*)$/.exec(rest);
    const key = m ? parsePublicKeyLine(m[2]) : undefined;
    if (!m || !key) {
      notes.push(`known_hosts line ${line}: not "hosts keytype base64-key", line ignored`);
      return;
    }
    if (marker === 'cert-authority') {
      notes.push(
        `known_hosts line ${line}: @cert-authority ignored (host certificates are not supported; pin the host key itself)`,
      );
    }
    entries.push(marker ? { line, marker, hosts: m[1], key } : { line, hosts: m[1], key });
  });
  return { entries, notes };
}

/** A `*` / `?` glob as a RegExp: whole string, case-insensitive (host names are). */
function globRegExp(pattern: string): RegExp {
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's');
}

/** `*` and `?` glob match, whole string, case-insensitive (host names are). */
export function globMatch(pattern: string, name: string): boolean {
  return globRegExp(pattern).test(name.toLowerCase());
}

/** HMAC-SHA1 of the name keyed by the salt: the `|1|salt|hash` form `ssh-keygen -H` writes. */
export function hashHostName(name: string, salt: Buffer): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** A known_hosts host field, compiled once: does it match a name (already `[host]:port` when not 22)? */
function fieldMatcher(field: string): (name: string) => boolean {
  if (field.startsWith('|')) {
    const parts = field.split('|');
    if (parts.length !== 4 || parts[1] !== '1') return () => false;
    const salt = Buffer.from(parts[2], 'base64');
    return (name) => hashHostName(name, salt) === field || hashHostName(name.toLowerCase(), salt) === field;
  }
  const patterns = field
    .split(',')
    .filter((p) => p)
    .map((p) => ({ negated: p.startsWith('!'), re: globRegExp(p.startsWith('!') ? p.slice(1) : p) }));
  return (name) => {
    const lower = name.toLowerCase();
    let matched = false;
    for (const p of patterns) {
      if (!p.re.test(lower)) continue;
      if (p.negated) return false; // a matching !pattern vetoes the line, whatever else matches
      matched = true;
    }
    return matched;
  };
}

/**
 * Does the host field of a known_hosts line match `name` (already in `[host]:port` form when the
 * port is not 22)? A matching `!pattern` vetoes the line, whatever else matches.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  return fieldMatcher(field)(name);
}

/**
 * The lines for each host, found without trying every line's patterns on every host: a run over N
 * nodes with a known_hosts of N lines did N² pattern matches (a third of the runner's CPU of a
 * 200-host `plan`). Lines of plain names are looked up by name; only hashed names, wildcards and
 * negations are tried one by one, each compiled once.
 */
interface HostIndex {
  byName: Map<string, KnownHostsEntry[]>;
  tried: { entry: KnownHostsEntry; matches: (name: string) => boolean }[];
}

const indexes = new WeakMap<KnownHosts, HostIndex>();

function hostIndex(kh: KnownHosts): HostIndex {
  let index = indexes.get(kh);
  if (index) return index;
  index = { byName: new Map(), tried: [] };
  for (const entry of kh.entries) {
    if (entry.marker !== undefined) continue; // @revoked is checked by key, whatever the host
    const names = entry.hosts.split(',').filter((p) => p);
    if (entry.hosts.startsWith('|') || names.some((p) => p.startsWith('!') || /[*?]/.test(p))) {
      index.tried.push({ entry, matches: fieldMatcher(entry.hosts) });
      continue;
    }
    for (const name of new Set(names.map((p) => p.toLowerCase()))) {
      const list = index.byName.get(name);
      if (list) list.push(entry);
      else index.byName.set(name, [entry]);
    }
  }
  indexes.set(kh, index);
  return index;
}

/** The (unmarked) lines for host:port, in file order. */
function linesFor(kh: KnownHosts, host: string, port: number): KnownHostsEntry[] {
  const name = knownHostsName(host, port);
  const index = hostIndex(kh);
  const found = [...(index.byName.get(name.toLowerCase()) ?? [])];
  for (const t of index.tried) if (t.matches(name)) found.push(t.entry);
  return found.sort((a, b) => a.line - b.line);
}

export type HostKeyVerdict =
  | { status: 'known'; line: number }
  | { status: 'revoked'; line: number }
  | { status: 'changed'; lines: number[] }
  /** The host is on record with keys of other types only: as OpenSSH's "keys of different type are already known". */
  | { status: 'other-type'; lines: number[]; types: string[] }
  | { status: 'unknown' };

/** What known_hosts says about `key` presented by host:port. */
export function checkHostKey(kh: KnownHosts, host: string, port: number, key: PublicKey): HostKeyVerdict {
  // A revoked key is never trusted, whichever host presents it.
  const revoked = kh.entries.find((e) => e.marker === 'revoked' && e.key.blob.equals(key.blob));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const forHost = linesFor(kh, host, port);
  const same = forHost.find((e) => e.key.blob.equals(key.blob));
  if (same) return { status: 'known', line: same.line };
  const changed = forHost.filter((e) => e.key.type === key.type);
  if (changed.length > 0) return { status: 'changed', lines: changed.map((e) => e.line) };
  if (forHost.length > 0) {
    const types = [...new Set(forHost.map((e) => e.key.type))];
    return { status: 'other-type', lines: forHost.map((e) => e.line), types };
  }
  return { status: 'unknown' };
}

/** Key types known_hosts has for host:port, in file order (to ask the server for one of those). */
export function knownKeyTypes(kh: KnownHosts, host: string, port: number): string[] {
  const types: string[] = [];
  for (const e of linesFor(kh, host, port)) if (!types.includes(e.key.type)) types.push(e.key.type);
  return types;
}
