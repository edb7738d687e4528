import { describe, expect, it } from 'vitest';
import { fullChain } from '../../src/ssh/jump';
import { sshConfigSettings } from '../../src/config/ssh-config/settings';
import type { SshOptions } from '../../src/ssh/types';

function opts(config: string): SshOptions {
  return {
    identities: [],
    knownHosts: '',
    insecureSkipHostKeyCheck: false,
    connectTimeoutSec: 5,
    hostSettings: sshConfigSettings({
      text: config,
      label: '~/.ssh/config',
      home: '/home/u',
      readFile: () => {
        throw Object.assign(new Error('none'), { code: 'ENOENT' });
      },
      listDir: () => [],
      debug: () => {},
      secret: () => {},
    }),
  };
}

const hop = (host: string, user?: string) => ({ ...(user ? { user } : {}), host, port: 22 });

describe('a jump chain as ssh -J runs it', () => {
  it("the first hop's own ProxyJump in the ssh config comes first (recursively); later hops' do not count", () => {
    const o = opts('Host bastion\n  ProxyJump gate\nHost gate\n  ProxyJump edge\nHost inner\n  ProxyJump ignored\n');
    expect(fullChain([hop('bastion', 'admin')], o)).toEqual([hop('edge'), hop('gate'), hop('bastion', 'admin')]);
    expect(fullChain([hop('edge'), hop('inner')], o)).toEqual([hop('edge'), hop('inner')]);
    expect(fullChain([], o)).toEqual([]);
  });

  it('a chain that grows beyond three hops, or loops, is a config error named as the hop', () => {
    const o = opts('Host b1\n  ProxyJump b2,b3\nHost loop\n  ProxyJump loop\n');
    expect(() => fullChain([hop('b1'), hop('node-side')], o)).toThrow(
      /^jump host b1: its ProxyJump in the ssh config \(b2,b3\) makes a chain of 4 hops; at most 3 are supported$/,
    );
    try {
      fullChain([hop('loop')], o);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ kind: 'config', node: 'loop', hint: expect.stringContaining('Host loop') });
      expect((err as Error).message).toMatch(/leads back to itself/);
    }
  });
});
