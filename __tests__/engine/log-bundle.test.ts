// A node's log bundle unpacked as if the node were hostile: crafted tarballs (links, devices, paths out
// of the directory, setuid modes, a gzip bomb) are refused whole, and nothing of them is left behind.
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { BundleError, extractBundle } from '../../src/engine/steps/log-bundle';

interface Crafted {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  mode?: number;
  data?: string | Buffer;
  linkpath?: string;
}

/** A .tar.gz written header by header, as a hostile node would. */
function bundleOf(entries: Crafted[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
    const h = new Header({
      path: e.path,
      type: e.type ?? 'File',
      mode: e.mode ?? 0o644,
      size: e.type && e.type !== 'File' ? 0 : data.length,
      linkpath: e.linkpath,
      uid: 4242,
      gid: 4242,
      mtime: new Date(0),
    });
    h.encode();
    blocks.push(h.block!);
    if (data.length && (!e.type || e.type === 'File'))
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

const CAP = 1024 * 1024;

describe('a node’s log bundle', () => {
  it('files and directories land under <into>/<node>, modes masked, owned by the caller, private', async () => {
    const into = mkdtempSync(join(tmpdir(), 'nokube-bundle-'));
    const bundle = bundleOf([
      { path: 'ray/', type: 'Directory', mode: 0o7777 },
      { path: 'ray/raylet.out', data: 'hello\n', mode: 0o6777 },
      { path: './nokube/facts.json', data: '{}' },
    ]);
    await extractBundle(bundle, into, 'head', CAP);
    expect(readdirSync(into)).toEqual(['head']);
    const file = join(into, 'head', 'ray', 'raylet.out');
    expect(readFileSync(file, 'utf8')).toBe('hello\n');
    expect(statSync(file).mode & 0o7777 & ~0o644).toBe(0); // no setuid/setgid/exec/write for others
    expect(statSync(join(into, 'head', 'ray')).mode & 0o7000).toBe(0);
    expect(statSync(file).uid).toBe(process.getuid!()); // not the header's 4242, even as root
    expect(statSync(join(into, 'head')).mode & 0o077).toBe(0);
  });

  const hostile: [string, Crafted[]][] = [
    ['a symlink to /etc/shadow', [{ path: 'ray/shadow', type: 'SymbolicLink', linkpath: '/etc/shadow' }]],
    [
      'a symlink then a file written through it',
      [
        { path: 'ray', type: 'SymbolicLink', linkpath: '/tmp' },
        { path: 'ray/escaped.txt', data: 'x' },
      ],
    ],
    ['a hard link to /etc/passwd', [{ path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }]],
    ['a ../ path', [{ path: '../escaped.txt', data: 'x' }]],
    ['a ../ path inside', [{ path: 'ray/../../escaped.txt', data: 'x' }]],
    ['an absolute path', [{ path: '/tmp/nokube-bundle-escaped.txt', data: 'x' }]],
    ['a device', [{ path: 'null', type: 'CharacterDevice' }]],
    ['a fifo', [{ path: 'fifo', type: 'FIFO' }]],
    [
      'one file named twice',
      [
        { path: 'a.txt', data: 'x' },
        { path: 'a.txt', data: 'y' },
      ],
    ],
  ];
  for (const [what, entries] of hostile) {
    it(`refuses ${what}, and leaves nothing`, async () => {
      const into = mkdtempSync(join(tmpdir(), 'nokube-bundle-'));
      const ok: Crafted = { path: 'ok.txt', data: 'fine' };
      const err = await extractBundle(bundleOf([ok, ...entries]), into, 'head', CAP).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BundleError);
      expect(readdirSync(into)).toEqual([]);
      expect(existsSync(join(into, '..', 'escaped.txt'))).toBe(false);
      expect(existsSync('/tmp/nokube-bundle-escaped.txt')).toBe(false);
      expect(existsSync('/tmp/escaped.txt')).toBe(false);
    });
  }

  it('a gzip bomb stops at the cap while it is inflated', async () => {
    const into = mkdtempSync(join(tmpdir(), 'nokube-bundle-'));
    const bomb = bundleOf([{ path: 'ray/zeros.log', data: Buffer.alloc(64 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(CAP); // small on the wire
    const err = await extractBundle(bomb, into, 'head', CAP).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(/inflates to more than 1048576 bytes/);
    expect(readdirSync(into)).toEqual([]);
  });

  it('garbage is refused as not a .tar.gz', async () => {
    const into = mkdtempSync(join(tmpdir(), 'nokube-bundle-'));
    await expect(extractBundle(Buffer.from('not gzip'), into, 'head', CAP)).rejects.toThrow(/not a valid .tar.gz/);
  });
});
