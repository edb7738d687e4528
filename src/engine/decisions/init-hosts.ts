// `init`'s list of hosts, from --head/--workers or a hosts file: `[user@]host[:port]` words into the
// nodes the first config will have (the design note's names: ray-head, ray-worker-1, ...).
import { parseSshUrl } from '../../config/ssh-url';
import type { InitHost } from '../types';

export type InitHostsResult = { ok: true; hosts: InitHost[] } | { ok: false; message: string; hint: string };

/** One `[user@]host[:port]` word; `where` names it in an error ("--workers", "hosts.txt:3"). */
export function parseHostWord(
  word: string,
  where: string,
): { ok: true; user?: string; host: string; port: number } | { ok: false; message: string; hint: string } {
  const at = word.lastIndexOf('@');
  const user = at >= 0 ? word.slice(0, at) : undefined;
  if (user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(user)) {
    return { ok: false, message: `${where}: "${word}" has no valid user before "@"`, hint: 'write user@host:port' };
  }
  const url = parseSshUrl(word.slice(at + 1));
  if (!url.ok) return { ok: false, message: `${where}: "${word}": ${url.message}`, hint: url.hint };
  return { ok: true, ...(user !== undefined ? { user } : {}), host: url.host, port: url.port };
}

/** --head HOST and --workers HOST,HOST,... */
export function hostsFromFlags(head: string, workers: string[]): InitHostsResult {
  const words: HostWord[] = [{ word: head, where: '--head', role: 'head' }];
  for (const w of workers.flatMap((list) => list.split(',')).map((w) => w.trim())) {
    if (w) words.push({ word: w, where: '--workers', role: 'worker' });
  }
  return named(words);
}

/**
 * A hosts file: one host a line, `#` comments, blank lines skipped; the first line is the head unless
 * a line says `head` after its host (`10.0.0.5 head`); `worker` may be said too.
 */
export function hostsFromFile(text: string, label: string): InitHostsResult {
  const words: HostWord[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*$/, '').trim();
    if (!line) continue;
    const [word, role, more] = line.split(/\s+/);
    const where = `${label}:${i + 1}`;
    if (more !== undefined || (role !== undefined && role !== 'head' && role !== 'worker')) {
      return {
        ok: false,
        message: `${where}: expected "[user@]host[:port] [head|worker]", got "${line}"`,
        hint: 'one host a line; mark the head with "head" after it, or put it first',
      };
    }
    words.push({ word, where, ...(role ? { role: role as 'head' | 'worker' } : {}) });
  }
  if (!words.length) {
    return { ok: false, message: `${label} lists no host`, hint: 'one [user@]host[:port] a line, the head first' };
  }
  const heads = words.filter((w) => w.role === 'head');
  if (heads.length > 1) {
    return {
      ok: false,
      message: `${heads.map((h) => h.where).join(' and ')} both say head`,
      hint: 'a cluster has exactly one head',
    };
  }
  const head = heads[0] ?? words[0];
  return named([
    { ...head, role: 'head' },
    ...words.filter((w) => w !== head).map((w) => ({ ...w, role: 'worker' as const })),
  ]);
}

/** A host word, where it was written, and the role it was given (if any). */
interface HostWord {
  word: string;
  where: string;
  role?: 'head' | 'worker';
}

function named(words: HostWord[]): InitHostsResult {
  const hosts: InitHost[] = [];
  let workers = 0;
  for (const w of words) {
    const parsed = parseHostWord(w.word, w.where);
    if (!parsed.ok) return parsed;
    const role = w.role === 'head' ? 'head' : 'worker';
    const same = hosts.find((h) => h.host === parsed.host && h.port === parsed.port);
    if (same) {
      return {
        ok: false,
        message: `${w.where}: ${w.word} is listed twice (also as ${same.name})`,
        hint: 'list each machine once',
      };
    }
    hosts.push({
      name: role === 'head' ? 'ray-head' : `ray-worker-${++workers}`,
      role,
      input: w.word,
      host: parsed.host,
      port: parsed.port,
      ...(parsed.user !== undefined ? { user: parsed.user } : {}),
    });
  }
  return { ok: true, hosts };
}
