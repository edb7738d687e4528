import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/engine/steps/concurrency';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  it('never runs more than `limit` at once, and uses the whole limit', async () => {
    let running = 0;
    let peak = 0;
    const items = Array.from({ length: 20 }, (_, i) => i);
    await mapLimit(items, 4, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5 + (i % 3) * 5);
      running--;
      return i;
    });
    expect(peak).toBe(4);
  });

  it('keeps the order of the items, whatever order they finish in', async () => {
    const r = await mapLimit([30, 1, 20, 5], 4, async (ms, i) => {
      await sleep(ms);
      return `${i}:${ms}`;
    });
    expect(r).toEqual(['0:30', '1:1', '2:20', '3:5'].map((value) => ({ status: 'fulfilled', value })));
  });

  it('settles every item: failures do not stop the others', async () => {
    const seen: number[] = [];
    const r = await mapLimit([1, 2, 3, 4], 2, async (n) => {
      seen.push(n);
      if (n % 2 === 0) throw new Error(`bad ${n}`);
      return n * 10;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4]);
    expect(r[0]).toEqual({ status: 'fulfilled', value: 10 });
    expect(r[1]).toMatchObject({ status: 'rejected', reason: { message: 'bad 2' } });
    expect(r[3]).toMatchObject({ status: 'rejected', reason: { message: 'bad 4' } });
  });

  it('handles an empty list, a limit above the count, and a nonsense limit', async () => {
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
    expect(await mapLimit([1, 2], 100, async (n) => n)).toHaveLength(2);
    let peak = 0;
    let running = 0;
    await mapLimit([1, 2, 3], 0, async () => {
      peak = Math.max(peak, ++running);
      await sleep(1);
      running--;
    });
    expect(peak).toBe(1);
  });
});
