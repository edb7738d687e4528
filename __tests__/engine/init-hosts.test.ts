// `init`'s hosts: --head/--workers and a hosts file into named nodes, and each bad line named.
import { describe, expect, it } from 'vitest';
import { hostsFromFile, hostsFromFlags } from '../../src/engine/decisions/init-hosts';

describe('init hosts', () => {
  it('names the head ray-head and the workers ray-worker-N, keeping user@ and :port', () => {
    const r = hostsFromFlags('alice@10.0.0.5:2222', ['10.0.0.6,gpu-1', '[2001:db8::7]:22']);
    expect(r).toEqual({
      ok: true,
      hosts: [
        { name: 'ray-head', role: 'head', input: 'alice@10.0.0.5:2222', host: '10.0.0.5', port: 2222, user: 'alice' },
        { name: 'ray-worker-1', role: 'worker', input: '10.0.0.6', host: '10.0.0.6', port: 22 },
        { name: 'ray-worker-2', role: 'worker', input: 'gpu-1', host: 'gpu-1', port: 22 },
        { name: 'ray-worker-3', role: 'worker', input: '[2001:db8::7]:22', host: '2001:db8::7', port: 22 },
      ],
    });
  });

  it('reads a hosts file: comments and blank lines skipped, the first the head unless one says head', () => {
    const first = hostsFromFile('# lab\n10.0.0.5\n\n10.0.0.6  # the big one\n', 'hosts.txt');
    expect(first.ok && first.hosts.map((h) => [h.name, h.host])).toEqual([
      ['ray-head', '10.0.0.5'],
      ['ray-worker-1', '10.0.0.6'],
    ]);
    const marked = hostsFromFile('10.0.0.6\n10.0.0.7 worker\nroot@10.0.0.5 head\n', 'hosts.txt');
    expect(marked.ok && marked.hosts.map((h) => [h.name, h.host, h.user])).toEqual([
      ['ray-head', '10.0.0.5', 'root'],
      ['ray-worker-1', '10.0.0.6', undefined],
      ['ray-worker-2', '10.0.0.7', undefined],
    ]);
  });

  it('names the place of a bad host', () => {
    expect(hostsFromFile('10.0.0.5\n10.0.0.6 boss\n', 'hosts.txt')).toMatchObject({
      ok: false,
      message: 'hosts.txt:2: expected "[user@]host[:port] [head|worker]", got "10.0.0.6 boss"',
    });
    expect(hostsFromFile('a head\nb head\n', 'h')).toMatchObject({ ok: false, message: 'h:1 and h:2 both say head' });
    expect(hostsFromFile('# nothing\n', 'h')).toMatchObject({ ok: false, message: 'h lists no host' });
    expect(hostsFromFlags('10.0.0.5', ['10.0.0.5:22'])).toMatchObject({
      ok: false,
      message: '--workers: 10.0.0.5:22 is listed twice (also as ray-head)',
    });
    expect(hostsFromFlags('ssh://x', [])).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^--head: "ssh:\/\/x": /),
    });
    expect(hostsFromFlags('@x', [])).toMatchObject({ ok: false, message: '--head: "@x" has no valid user before "@"' });
  });
});
