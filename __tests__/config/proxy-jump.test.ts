import { describe, expect, it } from 'vitest';
import { parseProxyJump } from '../../src/config/proxy-jump';

describe('parseProxyJump (OpenSSH ProxyJump form)', () => {
  it('reads [user@]host[:port] hops, first hop first, port 22 by default, IPv6 in brackets', () => {
    expect(parseProxyJump('admin@bastion.example.com')).toEqual({
      ok: true,
      hops: [{ user: 'admin', host: 'bastion.example.com', port: 22 }],
    });
    expect(parseProxyJump('j1:2222, ops@[fd00::1]:22')).toEqual({
      ok: true,
      hops: [
        { host: 'j1', port: 2222 },
        { user: 'ops', host: 'fd00::1', port: 22 },
      ],
    });
  });

  it('"none" (any case) means a direct connection', () => {
    expect(parseProxyJump('none')).toEqual({ ok: true, hops: [] });
    expect(parseProxyJump('None')).toEqual({ ok: true, hops: [] });
  });

  it('refuses a chain longer than 3, an empty hop, a URL and a bad port, naming the hop', () => {
    const four = parseProxyJump('a,b,c,d');
    expect(four).toMatchObject({ ok: false, message: 'proxy_jump has 4 hops; at most 3 are supported' });
    expect(parseProxyJump('a,,b')).toMatchObject({ ok: false, message: 'proxy_jump has an empty hop' });
    expect(parseProxyJump('ssh://bastion')).toMatchObject({
      ok: false,
      message: expect.stringContaining('ssh:// URL'),
    });
    const port = parseProxyJump('a,b:99999');
    expect(port).toMatchObject({ ok: false, message: expect.stringContaining('hop 2 ("b:99999")') });
  });
});
