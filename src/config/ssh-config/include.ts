// `Include` in an ssh config, read the way OpenSSH's readconf.c reads it: each argument is a path
// (relative ones under ~/.ssh, `~/` the home), glob patterns expanded in sorted order, a pattern
// that matches nothing skipped, includes nested up to 16 deep. An Include inside a Host block only
// counts when that Host matches, and its file's own Host blocks must match too; after the included
// file, the including file goes on in its own block. Parsing stays the `ssh-config` package's.
import SSHConfig, { LineType, type Directive, type Line, type Section } from 'ssh-config';
import picomatch from 'picomatch';
import { posix } from 'node:path';

/** An ssh config file to read, and how to read what it names (the front end does the I/O). */
export interface SshConfigSource {
  /** The file's text. */
  text: string;
  /** For messages: "~/.ssh/config", "ssh-config input". */
  label: string;
  /** The login user's home, for `~/` in IdentityFile, UserKnownHostsFile and Include. */
  home: string;
  /** Reads an IdentityFile / UserKnownHostsFile / Include. */
  readFile(path: string): string;
  /** The names in a directory (for Include's globs). */
  listDir(path: string): string[];
  debug(message: string): void;
  /** Registers a private key read from an IdentityFile as a secret. */
  secret(value: string): void;
}

/** A directive, and the Host pattern lists that must all match the name for it to apply. */
export interface ScopedDirective {
  line: Directive;
  hosts: string[][];
}

/** OpenSSH's READCONF_MAX_DEPTH. */
const MAX_DEPTH = 16;

/** Every directive of the config and the files it includes, in the order OpenSSH reads them. */
export function readIncludes(src: SshConfigSource): ScopedDirective[] {
  const out: ScopedDirective[] = [];
  walk(SSHConfig.parse(src.text), [], src.label, 0, src, out);
  return out;
}

function walk(
  lines: Iterable<Line>,
  hosts: string[][],
  file: string,
  depth: number,
  src: SshConfigSource,
  out: ScopedDirective[],
) {
  for (const line of lines) {
    if (line.type !== LineType.DIRECTIVE) continue;
    if (/^match$/i.test(line.param)) {
      src.debug(`${file}: skipping "Match ${valueText(line.value)}" (not supported; Host blocks are read)`);
      continue;
    }
    if (/^host$/i.test(line.param)) {
      walk((line as Section).config, [...hosts, values(line.value)], file, depth, src, out);
      continue;
    }
    if (/^include$/i.test(line.param)) {
      include(line, hosts, file, depth, src, out);
      continue;
    }
    out.push({ line, hosts });
  }
}

function include(
  line: Directive,
  hosts: string[][],
  file: string,
  depth: number,
  src: SshConfigSource,
  out: ScopedDirective[],
) {
  if (depth + 1 > MAX_DEPTH)
    throw new Error(
      `${file}: Include ${valueText(line.value)}: more than ${MAX_DEPTH} nested includes (an Include loop?)`,
    );
  for (const arg of values(line.value)) {
    const pattern = anchored(arg, src.home);
    const files = expandGlob(pattern, src);
    if (!files.length) {
      src.debug(`${file}: Include ${arg} matched no files`);
      continue;
    }
    for (const path of files) {
      let text: string;
      try {
        text = src.readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // OpenSSH skips a file that is gone; any other read error is an error.
        if (code === 'ENOENT') continue;
        throw new Error(`${file}: Include ${path}: ${code ?? (err as Error).message}`);
      }
      src.debug(
        `${file}: including ${path}${hosts.length ? ` (inside Host ${hosts.map((h) => h.join(' ')).join(' > ')})` : ''}`,
      );
      walk(SSHConfig.parse(text), hosts, path, depth + 1, src, out);
    }
  }
}

/** A user config's Include path: `~/...` under the home, a relative one under ~/.ssh. */
function anchored(arg: string, home: string): string {
  if (arg === '~' || arg.startsWith('~/')) return posix.join(home, arg.slice(1));
  if (posix.isAbsolute(arg)) return arg;
  return posix.join(home, '.ssh', arg);
}

const GLOB_CHARS = /[*?[]/;

/** glob(3) on an absolute path: each segment with a wildcard matched against its directory, sorted. */
function expandGlob(pattern: string, src: SshConfigSource): string[] {
  if (!GLOB_CHARS.test(pattern)) return [pattern];
  let paths = ['/'];
  for (const segment of pattern.split('/').filter(Boolean)) {
    if (!GLOB_CHARS.test(segment)) {
      paths = paths.map((p) => posix.join(p, segment));
      continue;
    }
    // glob(3): no braces or extglobs, and a leading dot is only matched by a leading dot
    const matches = picomatch(segment, { dot: segment.startsWith('.'), nobrace: true, noextglob: true });
    paths = paths.flatMap((dir) => {
      let names: string[];
      try {
        names = src.listDir(dir);
      } catch {
        return [];
      }
      return names
        .filter((n) => matches(n))
        .sort()
        .map((n) => posix.join(dir, n));
    });
  }
  return paths;
}

function values(v: Directive['value']): string[] {
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  return v.map((x) => x.val);
}

function valueText(v: Directive['value']): string {
  return values(v).join(' ');
}
