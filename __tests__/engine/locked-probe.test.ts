import { describe, expect, it } from 'vitest';
import { lockWasIdle } from '../../src/engine/steps/locked-probe';

// The workers probed beside the head's lock count only when no deploy can have ended meanwhile.
describe('lockWasIdle', () => {
  const taken = { ok: true, acquired: true, was_free: true, now: 1000, released_at: null };

  it('a lock never taken before, or released long before the look: the look stands', () => {
    expect(lockWasIdle(taken, 0.5)).toBe(true);
    expect(lockWasIdle({ ...taken, released_at: 990 }, 0.5)).toBe(true);
  });

  it('released during the look (head clock minus its duration): the workers are looked at again', () => {
    expect(lockWasIdle({ ...taken, released_at: 999.6 }, 0.5)).toBe(false);
    expect(lockWasIdle({ ...taken, released_at: 998 }, 3)).toBe(false);
  });

  it('a lock that was held (replaced as stale), or not taken, or an answer without the head clock', () => {
    expect(lockWasIdle({ ...taken, was_free: false, replaced_stale: { owner: 'x', since: 1 } }, 0.5)).toBe(false);
    expect(lockWasIdle({ ...taken, acquired: false }, 0.5)).toBe(false);
    expect(lockWasIdle({ ok: true, acquired: true }, 0.5)).toBe(false);
  });
});
