import { describe, expect, it } from 'vitest';
import { addresses, rayArgs } from '../../src/engine/decisions/desired';
import { useSshConfigHostNames } from '../../src/engine/steps/ssh-config-hosts';
import { sshConfigSettings } from '../../src/config/ssh-config/settings';
import type { SshOptions } from '../../src/ssh/types';
import { cluster, node } from './fixtures';

function ssh(text: string): SshOptions {
  return {
    identities: [],
    knownHosts: '',
    insecureSkipHostKeyCheck: false,
    connectTimeoutSec: 5,
    hostSettings: sshConfigSettings({
      text,
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

describe('ssh_url naming a Host of ~/.ssh/config', () => {
  it('the HostName is the address Ray and the user get; the alias stays for the SSH part', () => {
    const c = cluster([
      node('head', 'head', 'gpu-box-1'),
      node('w1', 'worker', 'gpu-box-2'),
      node('w2', 'worker', '10.0.0.9'),
    ]);
    const debug: string[] = [];
    useSshConfigHostNames(c, ssh('Host gpu-box-1\n  HostName 10.0.0.1\nHost gpu-box-2\n  HostName fd00::12\n'), {
      debug: (m) => debug.push(m),
    });
    expect(c.nodes.map((n) => [n.host, n.sshAlias])).toEqual([
      ['10.0.0.1', 'gpu-box-1'],
      ['fd00::12', 'gpu-box-2'],
      ['10.0.0.9', undefined],
    ]);
    expect(c.head.host).toBe('10.0.0.1'); // head and workers are the same objects as nodes
    expect(addresses(c)).toEqual({
      headAddress: '10.0.0.1:6379',
      clientAddress: 'ray://10.0.0.1:10001',
      dashboardUrl: 'http://10.0.0.1:8265',
    });
    expect(rayArgs(c, c.workers[0], c.workers[0].host).node_ip_address).toBe('fd00::12');
    expect(debug[0]).toBe('[head] ssh_url gpu-box-1:22: Host gpu-box-1 of the ssh config, HostName 10.0.0.1');
  });

  it('a name without HostName, or a bad entry, is left as written (the connect step reports the entry)', () => {
    const c = cluster([node('head', 'head', 'plain'), node('w1', 'worker', 'bad')]);
    useSshConfigHostNames(c, ssh('Host plain\n  User x\nHost bad\n  HostName 10.0.0.5\n  Port nope\n'), {
      debug: () => {},
    });
    expect(c.nodes.map((n) => [n.host, n.sshAlias])).toEqual([
      ['plain', undefined],
      ['bad', undefined],
    ]);
  });
});
