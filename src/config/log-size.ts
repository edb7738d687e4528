// A log size as ray_spec.log_rotation.max_bytes takes it: bytes, or a whole number with a unit
// (KB, MB, GB 1000-based; KiB, MiB, GiB 1024-based, as Ray's own "512MB" is).
const UNITS: Record<string, number> = {
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
};

export const LOG_SIZE_PATTERN = '^[1-9][0-9]{0,5}(KB|MB|GB|KiB|MiB|GiB)$';

/** Bytes of a checked size (a number is bytes already). */
export function logSizeBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)(KB|MB|GB|KiB|MiB|GiB)$/.exec(value);
  if (!m) throw new Error(`internal: log size ${value} was checked but does not parse`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** A byte count in the largest 1024-based unit that divides it ("512MiB"), else bytes. */
export function logSizeWords(bytes: number): string | number {
  for (const unit of ['GiB', 'MiB', 'KiB']) if (bytes % UNITS[unit]! === 0) return `${bytes / UNITS[unit]!}${unit}`;
  return bytes;
}
