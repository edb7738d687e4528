// Issue 22 (points 2, 4, 6, 7) on real sshd + real Ray test hosts: what runs on a node is what nokube
// checked, a hostile node's log bundle is kept at bay, Ray's directories on the node are private, and
// `job submit` sends only what the user means. Attacks come from another user of the node (`nokubepw`)
// or from the node itself (a compromised interpreter answering `logs`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import { clusterConfig, type TestCluster } from './cluster-config';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';

const HOST = 'nkh2';
const IP = '10.88.0.12';

const one = (name: string, storage: string, spec: Record<string, unknown> = {}): TestCluster => ({
  name,
  spec: { dashboard_port: 8265, ...spec },
  nodes: [{ ip: IP, name: 'tb-head', role: 'head', storage, ray: { dashboard_port: 8265 } }],
});

/** Writes a .pyc for the library on the node that creates `marker` when run: `header` says whose. */
const PLANT_PYC = String.raw`import sys, os, glob, importlib.util as u, importlib._bootstrap_external as x
lib, header, marker = sys.argv[1:4]
src = glob.glob(lib + "/nokube_remote.*.py")[0]
code = compile("open(%r, 'w').write('pwned')\ndef main(argv):\n    return 0\n" % marker, src, "exec")
pyc = u.cache_from_source(src)
st = os.stat(src)
if header == "timestamp":  # what Python's own loader accepts: the source's mtime and size
    data = x._code_to_timestamp_pyc(code, st.st_mtime, st.st_size)
else:  # a checked hash-based .pyc with the real source's hash (anyone can compute it)
    data = x._code_to_hash_pyc(code, u.source_hash(open(src, "rb").read()), True)
try:
    os.unlink(pyc)
except FileNotFoundError:
    pass
with open(pyc, "wb") as f:
    f.write(data)
print(pyc)
`;

/** A .tar.gz written header by header, as a hostile node would. */
function bundleOf(
  entries: { path: string; type?: 'File' | 'SymbolicLink'; mode?: number; data?: Buffer; linkpath?: string }[],
): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const h = new Header({
      path: e.path,
      type: e.type ?? 'File',
      mode: e.mode ?? 0o644,
      size: e.type ? 0 : data.length,
      linkpath: e.linkpath,
      uid: 4242,
      gid: 4242,
      mtime: new Date(0),
    });
    h.encode();
    blocks.push(h.block!);
    if (!e.type && data.length) blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe.skipIf(!e2eEnabled)('trust, third review: the node side (issue 22)', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  const write = (name: string, c: TestCluster): string => {
    const f = join(dir, name);
    writeFileSync(f, clusterConfig(c));
    return f;
  };
  const cli = (args: string[], f: string): Promise<CliRun> =>
    nokube(['ray', args[0], '--config', f, ...flags, ...args.slice(1)]);
  const sh = (cmd: string, user?: string) => hostExec(HOST, cmd, user ? { user } : {});

  beforeAll(() => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-trust-b-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '120');
  });
  afterAll(() => {
    if (info) rayStopAll(info);
  });

  it('a tampered __pycache__/*.pyc is never run: only the bytes whose hash was checked', async () => {
    const storage = '/opt/nokube/data/tb-lib';
    const f = write('lib.yaml', one('tblib', storage));
    expect((await cli(['stop'], f)).code).toBe(0); // uploads the library, caches its bytecode
    const lib = `${storage}/lib`;
    expect(sh(`stat -c '%a %U' ${lib} ${lib}/__pycache__`).stdout.trim()).toBe('700 nokube\n700 nokube');
    // 1. the login user's cache rewritten with a valid header for the file's mtime and size
    const marker = '/tmp/tb-pwned';
    sh(`rm -f ${marker}`);
    const own = hostExec(HOST, ['python3', '-c', PLANT_PYC, lib, 'timestamp', marker], { user: 'nokube' });
    expect(own.code, own.stderr).toBe(0);
    expect((await cli(['stop'], f)).code).toBe(0);
    expect(sh(`ls ${marker}`).code).not.toBe(0);
    // 2. another user who can write the cache (a group-writable __pycache__, as under umask 002) plants
    //    one with either header: a timestamp one, and a checked hash-based one with the source's hash
    for (const header of ['timestamp', 'checked-hash']) {
      // (the library itself is public: the same file is in every nokube package)
      sh(`chmod 0755 ${storage} ${lib}; chmod 0777 ${lib}/__pycache__; chmod 0644 ${lib}/nokube_remote.*.py`);
      const planted = hostExec(HOST, ['python3', '-c', PLANT_PYC, lib, header, marker], { user: 'nokubepw' });
      expect(planted.code, planted.stderr).toBe(0);
      expect(sh(`stat -c %U ${planted.stdout.trim()}`).stdout.trim()).toBe('nokubepw');
      expect((await cli(['stop'], f)).code).toBe(0);
      expect(sh(`ls ${marker}`).code, `${header} .pyc of nokubepw was run`).not.toBe(0);
      // the cache is the login user's again, and private
      expect(sh(`stat -c '%a %U' ${planted.stdout.trim()}`).stdout.trim()).toBe('600 nokube');
      expect(sh(`stat -c '%a' ${lib}/__pycache__`).stdout.trim()).toBe('700');
    }
  });

  it('an unsafe storage path is refused before anything is written in it', async () => {
    sh('rm -rf /opt/nokube/data/tb-shared /opt/nokube/data/tb-real /opt/nokube/data/tb-link');
    sh('mkdir /opt/nokube/data/tb-shared && chmod 0777 /opt/nokube/data/tb-shared');
    let r = await cli(['start', '--json'], write('shared.yaml', one('tbshared', '/opt/nokube/data/tb-shared/c')));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /storage path \/opt\/nokube\/data\/tb-shared\/c: \/opt\/nokube\/data\/tb-shared is writable by other users/,
    );
    expect(sh('find /opt/nokube/data/tb-shared -mindepth 1').stdout).toBe('');
    // a symlink another user made, in the path
    sh('mkdir /opt/nokube/data/tb-real && chown nokube /opt/nokube/data/tb-real');
    sh('ln -s /opt/nokube/data/tb-real /opt/nokube/data/tb-link && chown -h nokubepw /opt/nokube/data/tb-link');
    r = await cli(['start', '--json'], write('link.yaml', one('tblink', '/opt/nokube/data/tb-link/c')));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/tb-link is a symlink of nokubepw/);
    expect(sh('find /opt/nokube/data/tb-real -mindepth 1').stdout).toBe('');
    expect(sh('pgrep -x raylet').code).not.toBe(0);
  });

  it('/tmp/ray of another user is not used for Ray’s temp dir; the refusal says why', async () => {
    sh('rm -rf /tmp/ray && mkdir /tmp/ray && chmod 1777 /tmp/ray && chown nokubepw /tmp/ray');
    // longer than 35 bytes: Ray's temp dir would be /tmp/ray/nk-<hash>/ray
    const r = await cli(
      ['start', '--json'],
      write('tmpray.yaml', one('tbtmp', '/opt/nokube/data/a-rather-long-storage-path-tb')),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\/tmp\/ray belongs to nokubepw, not root or nokube/);
    expect(sh('ls -A /tmp/ray').stdout.trim()).toBe('');
    expect(sh('pgrep -x raylet').code).not.toBe(0);
    sh('rm -rf /tmp/ray');
  });

  describe('on a running head', () => {
    const storage = '/opt/nokube/data/tb';
    let f: string;
    beforeAll(async () => {
      // made by the admin, open to all for reading: Ray's 0777 temp dir would be reachable in it
      sh(`rm -rf ${storage}; mkdir -m 0755 ${storage} && chown nokube ${storage}`);
      f = write('run.yaml', one('tbrun', storage));
      const r = await cli(['start', '--timeout', '180'], f);
      expect(r.code, r.stderr).toBe(0);
    });
    afterAll(async () => {
      await cli(['stop'], f);
    });

    it('Ray’s temp dir under the storage sits in a directory only the login user can enter', () => {
      expect(sh(`stat -c '%a %U' ${storage}`).stdout.trim()).toBe('700 nokube');
      expect(sh(`ls -d ${storage}/ray/session_latest`).code).toBe(0);
      expect(sh(`ls ${storage}/ray/session_latest/logs`, 'nokubepw').code).not.toBe(0);
    });

    it('job submit leaves .git/ and ignored files home, says so, and the job sees neither', async () => {
      const wd = join(dir, 'wd');
      mkdirSync(wd);
      execFileSync('git', ['init', '-q', wd]);
      writeFileSync(
        join(wd, '.git', 'config'),
        '[remote "origin"]\n\turl = https://x-access-token:ghs_FAKETOKEN123@github.com/o/r\n',
      );
      writeFileSync(join(wd, '.gitignore'), '.env\n');
      writeFileSync(join(wd, '.env'), 'API_KEY=sekrit-env-value\n');
      writeFileSync(join(wd, 'main.py'), 'print("main ran")\n');
      const entry = 'ls -la; cat .git/config; cat .env; find . -name config; python main.py';
      const r = await cli(['job', 'submit', '--working-dir', wd, '--', 'bash', '-c', entry], f);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain('main ran');
      expect(r.stdout).toContain('.gitignore');
      expect(r.stdout + r.stderr).not.toContain('ghs_FAKETOKEN123');
      expect(r.stdout + r.stderr).not.toContain('sekrit-env-value');
      expect(r.stdout).not.toMatch(/ \.env$/m);
      expect(r.stderr).toMatch(
        /working dir uploaded: 2 files, .*left out: \.git\/, 1 path ignored by git's ignore rules/,
      );
    });
  });

  describe('logs from a node made hostile (its interpreter answers `logs` with a crafted bundle)', () => {
    const storage = '/opt/nokube/data/tb-logs';
    const bundlePath = `${storage}/logs/bundles/logs-1-crafted.tar.gz`;
    let f: string;
    beforeAll(() => {
      const answer = JSON.stringify({
        ok: true,
        archive: bundlePath,
        files: [],
        bytes: 1,
        cut: [],
        omitted: [],
        key_lines: [],
        session: null,
        lib_version: 1,
        elapsed_ms: 1,
      });
      sh(`mkdir -p ${storage}/logs/bundles && chown -R nokube ${storage} && chmod -R go-w ${storage}`);
      hostExec(HOST, `cat > /opt/nokube/hostile-answer.json`, { input: answer });
      hostExec(HOST, 'cat > /opt/nokube/hostile-python && chmod 0755 /opt/nokube/hostile-python', {
        input:
          '#!/bin/sh\nfor a in "$@"; do last=$a; done\nif [ "$last" = logs ]; then cat >/dev/null; cat /opt/nokube/hostile-answer.json; exit 0; fi\nexec python3 "$@"\n',
      });
      f = write('hostile.yaml', one('tblogs', storage, { python: '/opt/nokube/hostile-python' }));
    });
    const plant = (bundle: Buffer | string) =>
      typeof bundle === 'string'
        ? sh(bundle)
        : hostExec(HOST, `base64 -d > ${bundlePath} && chown nokube ${bundlePath}`, {
            input: bundle.toString('base64'),
          });
    let n = 0;
    const logs = async () => {
      const out = join(dir, `logs-${++n}`);
      const r = await cli(['logs', '--output', out, '--json'], f);
      return { r, out };
    };
    const nothingKept = (out: string) => {
      expect(readdirSync(out)).toEqual(['nokube-logs.json']);
      expect(execFileSync('find', [out, '-type', 'l', '-o', '-perm', '/6000'], { encoding: 'utf8' })).toBe('');
    };

    it('a symlink to /etc/shadow and a setuid file owned by another uid: refused, nothing kept, the node named', async () => {
      plant(
        bundleOf([
          { path: 'ray/ok.log', data: Buffer.from('fine\n') },
          { path: 'ray/suid', data: Buffer.from('#!/bin/sh\nid\n'), mode: 0o6755 },
          { path: 'ray/shadow', type: 'SymbolicLink', linkpath: '/etc/shadow' },
        ]),
      );
      const { r, out } = await logs();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/tb-head[\s\S]*log bundle was refused: refusing ray\/shadow: a SymbolicLink/);
      nothingKept(out);
    });

    it('a setuid file alone is kept without its setuid bit and owned by the caller', async () => {
      plant(bundleOf([{ path: 'ray/suid', data: Buffer.from('#!/bin/sh\nid\n'), mode: 0o6755 }]));
      const { r, out } = await logs();
      expect(r.code, r.stdout).toBe(0);
      const st = execFileSync('stat', ['-c', '%a %u', join(out, 'tb-head', 'ray', 'suid')], {
        encoding: 'utf8',
      }).trim();
      expect(st).toBe(`644 ${process.getuid!()}`);
      expect(execFileSync('stat', ['-c', '%a', join(out, 'tb-head')], { encoding: 'utf8' }).trim()).toBe('700');
    });

    it('a gzip bomb stops at the cap while it is inflated', async () => {
      plant(bundleOf([{ path: 'ray/zeros.log', data: Buffer.alloc(200 * 1024 * 1024) }]));
      const { r, out } = await logs();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/tb-head[\s\S]*inflates to more than \d+ bytes/);
      nothingKept(out);
    });

    it('a huge (sparse) bundle is not downloaded past the cap', async () => {
      plant(`truncate -s 4G ${bundlePath} && chown nokube ${bundlePath}`);
      const t0 = Date.now();
      const { r, out } = await logs();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/tb-head[\s\S]*log bundle is larger than \d+ bytes/);
      expect(Date.now() - t0).toBeLessThan(60_000);
      nothingKept(out);
      expect(existsSync(join(out, 'tb-head'))).toBe(false);
    });
  });
});
