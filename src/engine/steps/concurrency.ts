// Bounded parallelism: work on at most `limit` nodes at once (the `concurrency` input).

/**
 * Runs `fn` over `items` with at most `limit` calls in flight. Never rejects: every item settles, and
 * the result keeps the order of `items` (`fulfilled` with the value or `rejected` with the error).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  const width = Math.max(1, Math.min(Number.isFinite(limit) ? Math.floor(limit) : items.length, items.length));
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i], i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  }
  await Promise.all(Array.from({ length: items.length === 0 ? 0 : width }, worker));
  return results;
}
