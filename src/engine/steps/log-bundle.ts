// A node's log bundle (a .tar.gz made by remote_lib's `logs`), unpacked as if the node were hostile:
// the bundle is counted while it is inflated (a gzip bomb stops at the cap), only regular files and
// directories are made (no link, device or fifo), no name leaves the node's directory, modes are
// masked (0644 files, 0755 directories: no setuid/setgid, no owner kept even as root), every file is
// created new (O_EXCL|O_NOFOLLOW) inside a private staging directory (mkdtemp, 0700), which is removed
// on any error and renamed into place only when the whole bundle was good.
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

export class BundleError extends Error {}

interface Member {
  type: string;
  path: string;
  mode: number;
  data: Buffer[];
}

/** The tar members of an inflated bundle (in memory: its size was capped before). */
function members(tarBytes: Buffer): Promise<Member[]> {
  return new Promise((resolve, reject) => {
    const out: Member[] = [];
    const parser = new Parser({
      strict: true,
      onwarn: (code: string, message: string | Error) =>
        reject(new BundleError(`not a valid tar (${code}: ${String(message)})`)),
    });
    parser.on('entry', (e: ReadEntry) => {
      const m: Member = { type: e.type, path: e.path, mode: e.mode ?? 0o644, data: [] };
      out.push(m);
      e.on('data', (c: Buffer) => m.data.push(c));
    });
    parser.on('error', (err: Error) => reject(new BundleError(`not a valid tar (${err.message})`)));
    parser.on('end', () => resolve(out));
    parser.end(tarBytes);
  });
}

/** `name` split into parts, or a BundleError when it would leave the directory. */
function safeParts(name: string): string[] {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new BundleError(`refusing the absolute path ${name}`);
  const parts = name.split('/').filter((p) => p && p !== '.');
  if (parts.includes('..')) throw new BundleError(`refusing ${name}: it leaves the node's directory`);
  return parts;
}

/**
 * Unpacks `bundle` into `<into>/<name>` (which must not exist yet); at most `maxBytes` inflated.
 * Throws BundleError saying what was refused; nothing of the bundle is left behind then.
 */
export async function extractBundle(bundle: Buffer, into: string, name: string, maxBytes: number): Promise<void> {
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(bundle, { maxOutputLength: maxBytes });
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BundleError(`the bundle inflates to more than ${maxBytes} bytes (the cap for this node's logs)`);
    }
    throw new BundleError(`the bundle is not a valid .tar.gz (${(err as Error).message})`);
  }
  const list = await members(tarBytes);
  const staging = mkdtempSync(join(into, `.${name}.`));
  try {
    for (const m of list) {
      const parts = safeParts(m.path);
      if (m.type !== 'File' && m.type !== 'OldFile' && m.type !== 'ContiguousFile' && m.type !== 'Directory') {
        throw new BundleError(`refusing ${m.path}: a ${m.type}, not a regular file or directory`);
      }
      if (!parts.length) continue;
      const dir = m.type === 'Directory' ? parts : parts.slice(0, -1);
      // only directories made here are on the way: no symlink can be, since none is ever made
      if (dir.length) mkdirSync(join(staging, ...dir), { recursive: true, mode: 0o755 });
      if (m.type === 'Directory') continue;
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
      const fd = openSync(join(staging, ...parts), flags, m.mode & 0o644);
      try {
        for (const chunk of m.data) writeSync(fd, chunk);
      } finally {
        closeSync(fd);
      }
    }
    renameSync(staging, join(into, name));
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (err instanceof BundleError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new BundleError(`refusing the bundle: it names one file twice`);
    throw err;
  }
}
