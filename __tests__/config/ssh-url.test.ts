import { describe, expect, it } from 'vitest';
import { parseSshUrl } from '../../src/config';

describe('parseSshUrl', () => {
  it.each([
    ['prod-server-1:22', 'prod-server-1', 22],
    ['prod-server-1', 'prod-server-1', 22],
    ['Host.Example.com:2222', 'Host.Example.com', 2222],
    ['10.0.0.5', '10.0.0.5', 22],
    ['10.0.0.5:65535', '10.0.0.5', 65535],
    ['[2001:db8::5]:2222', '2001:db8::5', 2222],
    ['[::1]', '::1', 22],
    ['localhost:10001', 'localhost', 10001],
  ])('%s -> %s port %i', (url, host, port) => {
    expect(parseSshUrl(url)).toEqual({ ok: true, host, port });
  });

  it.each([
    ['ssh://deploy@h:22', 'scheme', 'drop the scheme: "h:22"'],
    ['deploy@h', 'login user', 'userid: deploy'],
    ['2001:db8::5', 'needs brackets', '[2001:db8::5]:22'],
    ['[h]:22', 'not an IPv6 address', 'brackets are only for IPv6'],
    ['[2001:db8::5', 'without "]"', '[2001:db8::5]:22'],
    ['h:0', 'outside 1–65535', '1 to 65535'],
    ['h:65536', 'outside 1–65535', '1 to 65535'],
    ['h:ssh', 'not a number', '1 to 65535'],
    ['h:', 'no port', 'leave ":" out'],
    [':22', 'no host', 'host:port'],
    ['999.1.1.1', 'not a valid IPv4', 'host:port'],
    ['bad host', 'spaces', 'host:port'],
    ['-bad-', 'not a valid host name', 'host:port'],
    ['${HOST}:22', 'cannot use ${...}', 'credentials'],
  ])('%s is refused: %s', (url, message, hint) => {
    const result = parseSshUrl(url);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain(message);
    expect(result.hint).toContain(hint);
  });
});
