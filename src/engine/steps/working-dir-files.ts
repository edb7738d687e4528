// Which files of a job's working directory go to the head: what git would commit, not what happens to
// lie there. `.git/` (its config may hold the checkout's token) always stays home, and so do the files
// the repository's ignore files exclude (`.env`, build output). Git itself answers when it is installed
// and the directory is in a work tree (`git ls-files`: nested .gitignore files, .git/info/exclude, the
// user's core.excludesFile); else the .gitignore files are read here, by git's rules.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, type Stats } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';

export interface WorkingDirFiles {
  /** Regular files to send, relative to the directory, with `/` between parts. */
  files: string[];
  /** Bytes of those files. */
  bytes: number;
  /** Paths left out because an ignore file excludes them (an ignored directory counts once). */
  ignored: number;
  /** Symlinks, sockets and the like left out: the head unpacks regular files and directories only. */
  notFiles: number;
  /** Who chose: git, or the .gitignore files read without git. */
  by: 'git' | 'gitignore';
}

const isGitDir = (rel: string): boolean => rel.split('/').includes('.git');

/** The files to upload from `dir` (an existing directory). */
export function selectWorkingDirFiles(dir: string): WorkingDirFiles {
  return fromGit(dir) ?? fromIgnoreFiles(dir);
}

function gitList(dir: string, args: string[]): string[] | undefined {
  try {
    const out = execFileSync('git', ['-C', dir, 'ls-files', '-z', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 1 << 28,
    });
    return out.split('\0').filter(Boolean);
  } catch {
    return undefined; // no git, not a work tree, or a repository git refuses (another user's)
  }
}

function fromGit(dir: string): WorkingDirFiles | undefined {
  const listed = gitList(dir, ['--cached', '--others', '--exclude-standard']);
  if (!listed) return undefined;
  const ignored = gitList(dir, ['--others', '--ignored', '--exclude-standard', '--directory', '--no-empty-directory']);
  const out: WorkingDirFiles = { files: [], bytes: 0, ignored: ignored?.length ?? 0, notFiles: 0, by: 'git' };
  for (const rel of new Set(listed)) {
    if (isGitDir(rel)) continue;
    take(out, rel, lstatOrUndefined(join(dir, rel)));
  }
  out.files.sort();
  return out;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined; // tracked but deleted in the work tree
  }
}

function take(out: WorkingDirFiles, rel: string, st: Stats | undefined): void {
  if (!st || st.isDirectory()) return; // a submodule is a directory in git's list
  if (!st.isFile()) {
    out.notFiles++;
    return;
  }
  out.files.push(rel);
  out.bytes += st.size;
}

interface Rule {
  /** The directory the ignore file is in (absolute). */
  base: string;
  match: (rel: string) => boolean;
  negate: boolean;
  dirOnly: boolean;
}

/** One ignore file's lines as rules, by gitignore(5). */
export function parseIgnoreFile(text: string, base: string): Rule[] {
  const rules: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (!line.trim() || line.startsWith('#')) continue;
    line = line.replace(/(?<!\\)\s+$/, '');
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.replace(/\/+$/, '');
    if (!line) continue;
    // a slash at the start or in the middle anchors the pattern to the ignore file's directory
    const anchored = line.includes('/');
    const glob = anchored ? line.replace(/^\/+/, '') : `**/${line}`;
    const m = picomatch(glob, { dot: true });
    // a pattern that names a directory also covers what is inside it
    rules.push({ base, match: (rel) => m(rel), negate, dirOnly });
  }
  return rules;
}

/** The last rule that matches decides (a later, deeper file overrides an earlier one). */
function ignoredBy(rules: Rule[], abs: string, isDir: boolean): boolean {
  let ignored = false;
  for (const r of rules) {
    if (r.dirOnly && !isDir) continue;
    const rel = relative(r.base, abs).split(sep).join('/');
    if (!rel || rel.startsWith('..')) continue;
    if (r.match(rel)) ignored = !r.negate;
  }
  return ignored;
}

function readRules(file: string, base: string): Rule[] {
  try {
    return parseIgnoreFile(readFileSync(file, 'utf8'), base);
  } catch {
    return [];
  }
}

/** The ignore files above `dir` inside its repository (the nearest parent with `.git`), outermost first. */
function parentRules(dir: string): Rule[] {
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (existsSync(join(d, '.git')) || dirname(d) === d) break;
  }
  if (!existsSync(join(chain[0], '.git'))) return [];
  const rules = readRules(join(chain[0], '.git', 'info', 'exclude'), chain[0]);
  for (const d of chain.slice(0, -1)) rules.push(...readRules(join(d, '.gitignore'), d));
  return rules;
}

function fromIgnoreFiles(dir: string): WorkingDirFiles {
  const out: WorkingDirFiles = { files: [], bytes: 0, ignored: 0, notFiles: 0, by: 'gitignore' };
  const walk = (abs: string, rules: Rule[]) => {
    const here = [...rules, ...readRules(join(abs, '.gitignore'), abs)];
    for (const name of readdirSync(abs).sort()) {
      const path = join(abs, name);
      const st = lstatSync(path);
      if (name === '.git') continue;
      if (ignoredBy(here, path, st.isDirectory())) {
        out.ignored++;
        continue;
      }
      if (st.isDirectory()) walk(path, here);
      else take(out, relative(dir, path).split(sep).join('/'), st);
    }
  };
  walk(dir, parentRules(dir));
  return out;
}
