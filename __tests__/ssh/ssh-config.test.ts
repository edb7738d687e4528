import { describe, expect, it } from 'vitest';
import { sshConfigSettings } from '../../src/config/ssh-config/settings';
import { applyHostSettings } from '../../src/ssh/ssh-config';
import type { SshOptions } from '../../src/ssh/types';
import { testNode } from './helpers';

const files: Record<string, string> = {
  '/home/u/.ssh/gpu_key': 'PRIVATE-KEY-GPU',
  '/home/u/.ssh/default_key': 'PRIVATE-KEY-DEFAULT',
  '/home/u/.ssh/kh_gpu': '10.1.1.1 ssh-ed25519 AAAA',
};

function settings(text: string, extra: Record<string, string> = {}) {
  const tree = { ...files, ...extra };
  const debug: string[] = [];
  const secrets: string[] = [];
  const of = sshConfigSettings({
    text,
    label: '~/.ssh/config',
    home: '/home/u',
    readFile: (p) => {
      if (!(p in tree)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return tree[p];
    },
    listDir: (d) => {
      const prefix = d.endsWith('/') ? d : `${d}/`;
      const names = Object.keys(tree)
        .filter((f) => f.startsWith(prefix))
        .map((f) => f.slice(prefix.length).split('/')[0]);
      if (!names.length) throw Object.assign(new Error('no such directory'), { code: 'ENOENT' });
      return [...new Set(names)];
    },
    debug: (m) => debug.push(m),
    secret: (v) => secrets.push(v),
  });
  return { of, debug, secrets };
}

const CONFIG = `
Host gpu-box-1
  HostName 10.1.1.1
  Port 2222
  IdentityFile ~/.ssh/gpu_key
  ProxyJump admin@bastion:22
  UserKnownHostsFile ~/.ssh/kh_gpu

Match host gpu-box-1
  User from-match

Host gpu-*
  User gpu-user
  HostName ignored.example

Host *
  User everyone
  Port 2200
  IdentityFile ~/.ssh/default_key
  IdentityFile ~/.ssh/missing_key
`;

describe('~/.ssh/config (read as OpenSSH reads it)', () => {
  it('gives an alias its HostName, Port, User, IdentityFile, ProxyJump, UserKnownHostsFile; the first value wins', () => {
    const { of, secrets } = settings(CONFIG);
    const s = of('gpu-box-1')!;
    expect(s.hostName).toBe('10.1.1.1'); // not "ignored.example" from the later gpu-* block
    expect(s.port).toBe(2222); // not Host *'s 2200
    expect(s.user).toBe('gpu-user'); // the Match block is skipped; gpu-* comes before Host *
    expect(s.identities.map((k) => k.key)).toEqual(['PRIVATE-KEY-GPU', 'PRIVATE-KEY-DEFAULT']);
    expect(s.identities[0].label).toContain('/home/u/.ssh/gpu_key');
    expect(s.proxyJump).toEqual([{ user: 'admin', host: 'bastion', port: 22 }]);
    expect(s.knownHosts).toContain('10.1.1.1 ssh-ed25519');
    expect(secrets).toContain('PRIVATE-KEY-GPU');
  });

  it('Host * gives defaults to any other name; Match is skipped with a debug note', () => {
    const { of, debug } = settings(CONFIG);
    const s = of('other-host')!;
    expect(s).toMatchObject({ user: 'everyone', port: 2200 });
    expect(s.hostName).toBeUndefined();
    expect(debug.join('\n')).toMatch(/skipping "Match host gpu-box-1"/);
    expect(debug.join('\n')).toMatch(/IdentityFile \/home\/u\/\.ssh\/missing_key .*ENOENT/);
  });

  it('applies to a node: HostName and Port unless ssh_url gave a port, User as the default login, keys first', () => {
    const { of } = settings(CONFIG);
    const opts: SshOptions = {
      identities: [{ label: '--identity', key: 'RUN-KEY' }],
      knownHosts: 'RUN-KH',
      insecureSkipHostKeyCheck: false,
      defaultUser: 'flag-user',
      connectTimeoutSec: 5,
      hostSettings: of,
    };
    const node = testNode({ host: 'gpu-box-1', sshPort: 22, sshUrl: 'gpu-box-1' });
    const applied = applyHostSettings(node, opts);
    expect(applied.target).toMatchObject({ name: node.name, host: '10.1.1.1', sshPort: 2222 });
    expect(applied.opts.defaultUser).toBe('gpu-user');
    expect(applied.opts.identities.map((k) => k.key)).toEqual(['PRIVATE-KEY-GPU', 'PRIVATE-KEY-DEFAULT', 'RUN-KEY']);
    expect(applied.opts.knownHosts).toMatch(/10\.1\.1\.1 ssh-ed25519[\s\S]*RUN-KH/);
    expect(applied.proxyJump).toHaveLength(1);
    const explicit = applyHostSettings(testNode({ host: 'gpu-box-1', sshPort: 2022, sshUrl: 'gpu-box-1:2022' }), opts);
    expect(explicit.target.sshPort).toBe(2022);
  });

  it('a bad Port or ProxyJump is named with the file and the Host', () => {
    expect(() => settings('Host a\n  Port http\n').of('a')).toThrow(/~\/\.ssh\/config: Port "http" for Host a/);
    expect(() => settings('Host a\n  ProxyJump a,b,c,d\n').of('a')).toThrow(
      /ProxyJump for Host a: proxy_jump has 4 hops/,
    );
  });

  describe('Include, as OpenSSH reads it', () => {
    it('a relative path is under ~/.ssh, globs expand in sorted order, read in place (first value wins)', () => {
      const { of, debug } = settings('Include config.d/*.conf\nHost *\n  User fallback\n', {
        '/home/u/.ssh/config.d/20-gpu.conf': 'Host gpu-box-1\n  HostName 10.1.1.20\n  User second\n',
        '/home/u/.ssh/config.d/10-gpu.conf': 'Host gpu-box-1\n  HostName 10.1.1.10\n',
        '/home/u/.ssh/config.d/notes.txt': 'Host gpu-box-1\n  HostName 10.9.9.9\n',
        '/home/u/.ssh/config.d/.hidden.conf': 'Host gpu-box-1\n  HostName 10.8.8.8\n',
      });
      const s = of('gpu-box-1')!;
      expect(s.hostName).toBe('10.1.1.10'); // 10-gpu.conf before 20-gpu.conf; *.conf skips notes.txt and dotfiles
      expect(s.user).toBe('second'); // an included file's value comes before the Host * after the Include
      expect(of('other')!.user).toBe('fallback');
      expect(debug.join('\n')).toMatch(/including \/home\/u\/\.ssh\/config\.d\/10-gpu\.conf/);
    });

    it('~/ and absolute paths; nested includes; a pattern matching nothing is skipped with a debug note', () => {
      const { of, debug } = settings('Include ~/extra/top /etc/none/*\n', {
        '/home/u/extra/top': 'Include /opt/site/ssh_hosts\nHost a\n  Port 2201\n',
        '/opt/site/ssh_hosts': 'Host a b\n  HostName 10.2.2.2\n',
      });
      expect(of('a')).toMatchObject({ hostName: '10.2.2.2', port: 2201 });
      expect(of('b')).toMatchObject({ hostName: '10.2.2.2' });
      expect(debug.join('\n')).toMatch(/Include \/etc\/none\/\* matched no files/);
    });

    it("inside a Host block: applies only when that Host matches, and the file's own Host blocks must match too", () => {
      const { of } = settings('Host lab-*\n  Include lab.conf\n  User lab-user\nHost *\n  Port 2000\n', {
        '/home/u/.ssh/lab.conf': 'HostName 10.3.3.3\nHost lab-gpu\n  Port 2222\nHost other-gpu\n  Port 2333\n',
      });
      expect(of('lab-gpu')).toMatchObject({ hostName: '10.3.3.3', port: 2222, user: 'lab-user' });
      // the included file's Host blocks do not leak out: lab-cpu gets the top-level line only
      expect(of('lab-cpu')).toMatchObject({ hostName: '10.3.3.3', port: 2000, user: 'lab-user' });
      // outside lab-*, nothing of lab.conf applies (not even its Host other-gpu block)
      expect(of('other-gpu')).toEqual({ identities: expect.any(Array), port: 2000 });
    });

    it('a Match inside an included file is skipped with a debug note; an Include loop is an error naming the file', () => {
      const { of, debug } = settings('Include m.conf\n', {
        '/home/u/.ssh/m.conf': 'Match user root\n  Port 1\nHost x\n  Port 2\n',
      });
      expect(of('x')!.port).toBe(2);
      expect(debug.join('\n')).toMatch(/\/home\/u\/\.ssh\/m\.conf: skipping "Match user root"/);
      expect(() => settings('Include loop\n', { '/home/u/.ssh/loop': 'Include loop\n' })).toThrow(
        /\/home\/u\/\.ssh\/loop: Include loop: more than 16 nested includes/,
      );
    });

    it('Host patterns ignore case, as ssh does', () => {
      expect(settings('Host GPU-Box\n  HostName 10.4.4.4\n').of('gpu-box')!.hostName).toBe('10.4.4.4');
    });
  });
});
