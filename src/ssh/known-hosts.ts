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

/** `*` and `?` glob match, whole string, case-insensitive (host names are). */
export function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(name.toLowerCase());
}

/** HMAC-SHA1 of the name keyed by the salt: the `|1|salt|hash` form `ssh-keygen -H` writes. */
export function hashHostName(name: string, salt: Buffer): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/**
 * Does the host field of a known_hosts line match `name` (already in `[host]:port` form when the
 * port is not 22)? A matching `!pattern` vetoes the line, whatever else matches.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) {
    const parts = field.split('|');
    if (parts.length !== 4 || parts[1] !== '1') return false;
    const salt = Buffer.from(parts[2], 'base64');
    return hashHostName(name, salt) === field || hashHostName(name.toLowerCase(), salt) === field;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (!pattern) continue;
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

export type HostKeyVerdict =
  | { status: 'known'; line: number }
  | { status: 'revoked'; line: number }
  | { status: 'changed'; lines: number[] }
  | { status: 'unknown' };

/** What known_hosts says about `key` presented by host:port. */
export function checkHostKey(kh: KnownHosts, host: string, port: number, key: PublicKey): HostKeyVerdict {
  const name = knownHostsName(host, port);
  // A revoked key is never trusted, whichever host presents it.
  const revoked = kh.entries.find((e) => e.marker === 'revoked' && e.key.blob.equals(key.blob));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const forHost = kh.entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name));
  const same = forHost.find((e) => e.key.blob.equals(key.blob));
  if (same) return { status: 'known', line: same.line };
  const changed = forHost.filter((e) => e.key.type === key.type);
  if (changed.length > 0) return { status: 'changed', lines: changed.map((e) => e.line) };
  return { status: 'unknown' };
}

/** Key types known_hosts has for host:port, in file order (to ask the server for one of those). */
export function knownKeyTypes(kh: KnownHosts, host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types: string[] = [];
  for (const e of kh.entries) {
    if (e.marker === undefined && hostFieldMatches(e.hosts, name) && !types.includes(e.key.type))
      types.push(e.key.type);
  }
  return types;
}
