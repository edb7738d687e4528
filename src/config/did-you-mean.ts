// "Did you mean" for mistyped keys and values: `num_cpu` -> `num_cpus`, `ssh_ulr` -> `ssh_url`, `haed` -> `head`.

/** Optimal string alignment distance: Levenshtein plus swapping two neighbours (the commonest typo). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

// `numCpus`, `num-cpus` and `NUM_CPUS` all mean `num_cpus`: compare without case and separators first.
function squash(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, '');
}

/** The closest allowed word, if it is close enough to be a likely typo. */
export function closestMatch(word: string, allowed: readonly string[]): string | undefined {
  const squashed = squash(word);
  const same = allowed.find((candidate) => squash(candidate) === squashed);
  if (same !== undefined) return same;
  // One edit per three letters, at least one: `haed` -> `head`, but `port` does not become `role`.
  const limit = Math.max(1, Math.floor(squashed.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(squashed, squash(candidate));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
