import { describe, expect, it } from 'vitest';
import { reviewHostKeyPins } from '../../src/engine/decisions/pinned-host-keys';
import { cluster, node } from './fixtures';

const pinned = (name: string, host: string, key?: string) => ({
  ...node(name, 'worker', host),
  ...(key ? { hostKey: key } : {}),
});

describe('host_key pins on a pull request', () => {
  it('keeps a pin the base config has; drops one the pull request added; restores the base pin it changed', () => {
    const base = cluster([
      { ...node('head', 'head', '10.0.0.1'), hostKey: 'ssh-ed25519 AAAAbase' },
      pinned('w1', '10.0.0.2', 'ssh-ed25519 AAAAw1'),
    ]);
    const pr = cluster([
      { ...node('head', 'head', '10.0.0.1'), hostKey: 'ssh-ed25519 AAAAattacker' }, // changed
      pinned('w1', '10.0.0.2', 'ssh-ed25519 AAAAw1'), // as in the base
      pinned('w2', '10.0.0.3', 'ssh-ed25519 AAAAnew'), // added
      pinned('w3', '10.0.0.4'), // no pin
    ]);
    const review = reviewHostKeyPins(pr, base);
    expect(review.nodes.map((n) => n.hostKey)).toEqual([
      'ssh-ed25519 AAAAbase',
      'ssh-ed25519 AAAAw1',
      undefined,
      undefined,
    ]);
    expect(review.warnings).toHaveLength(2);
    expect(review.warnings[0]).toMatch(/^head: its host_key is changed/);
    expect(review.warnings[1]).toMatch(/^w2: its host_key is new.*known_hosts decides/);
  });

  it('a pin whose node moved to another address, or with no base config at all, is not trusted', () => {
    const base = cluster([{ ...node('head', 'head', '10.0.0.1'), hostKey: 'ssh-ed25519 AAAAk' }]);
    const moved = cluster([{ ...node('head', 'head', '203.0.113.9'), hostKey: 'ssh-ed25519 AAAAk' }]);
    expect(reviewHostKeyPins(moved, base).nodes[0].hostKey).toBeUndefined();
    expect(reviewHostKeyPins(base, undefined).nodes[0].hostKey).toBeUndefined();
  });
});
