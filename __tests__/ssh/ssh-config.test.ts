import { describe, expect, it } from 'vitest';
import { applyHostSettings, sshConfigSettings } from '../../src/ssh/ssh-config';
import type { SshOptions } from '../../src/ssh/types';
import { testNode } from './helpers';

const files: Record<string, string> = {
  '/home/u/.ssh/gpu_key': 'PRIVATE-KEY-GPU',
  '/home/u/.ssh/default_key': 'PRIVATE-KEY-DEFAULT',
  '/home/u/.ssh/kh_gpu': '10.1.1.1 ssh-ed25519 AAAA',
};

function settings(text: string) {
  const debug: string[] = [];
  const secrets: string[] = [];
  const of = sshConfigSettings({
    text,
    label: '~/.ssh/config',
    home: '/home/u',
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return files[p];
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
});
