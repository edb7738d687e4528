import { describe, expect, it } from 'vitest';
import { MAX_JUMP_HOPS as CONFIG_MAX_HOPS, parseProxyJump } from '../../src/config/proxy-jump';
import { sshTarget } from '../../src/engine/decisions/ssh-target';
import { MAX_JUMP_HOPS as SSH_MAX_HOPS } from '../../src/ssh/jump';
import { node } from './fixtures';

describe('a config node as the SSH part reaches it', () => {
  it('carries the logins in order, the pinned host key and the jump hosts', () => {
    const n = {
      ...node('gpu-1', 'worker', '10.0.0.7'),
      sshPort: 2222,
      users: [
        { userid: 'deploy', sshkey: 'ssh-ed25519 AAAA deploy', pos: { line: 4, col: 9 } },
        { userid: '${OPS_USER}', password: '${OPS_PW}', pos: { line: 6, col: 9 } },
      ],
      hostKey: 'SHA256:abc',
      proxyJump: [{ user: 'admin', host: 'bastion', port: 22 }],
    };
    expect(sshTarget(n)).toEqual({
      name: 'gpu-1',
      host: '10.0.0.7',
      sshPort: 2222,
      users: [
        { userid: 'deploy', password: undefined, sshkey: 'ssh-ed25519 AAAA deploy' },
        { userid: '${OPS_USER}', password: '${OPS_PW}', sshkey: undefined },
      ],
      hostKey: 'SHA256:abc',
      proxyJump: [{ user: 'admin', host: 'bastion', port: 22 }],
    });
  });

  it('is looked up by the ssh config name ssh_url gave, not the HostName Ray is given', () => {
    const n = { ...node('head', 'head', '10.0.0.1'), sshAlias: 'gpu-box-1' };
    expect(sshTarget(n).host).toBe('gpu-box-1');
  });

  it('proxy_jump "none" stays a direct connection; no proxy_jump leaves the choice to the run', () => {
    expect(sshTarget({ ...node('w', 'worker', 'h'), proxyJump: [] }).proxyJump).toEqual([]);
    expect(sshTarget(node('w', 'worker', 'h')).proxyJump).toBeUndefined();
  });

  it('the config and the SSH part allow the same number of jump hops', () => {
    expect(CONFIG_MAX_HOPS).toBe(SSH_MAX_HOPS);
    expect(parseProxyJump(Array.from({ length: SSH_MAX_HOPS }, (_, i) => `j${i}`).join(',')).ok).toBe(true);
    expect(parseProxyJump(Array.from({ length: SSH_MAX_HOPS + 1 }, (_, i) => `j${i}`).join(',')).ok).toBe(false);
  });
});
