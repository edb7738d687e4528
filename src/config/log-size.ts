// A log size as ray_spec.log_rotation.max_bytes takes it: bytes, or a whole number with a unit
// (KB, MB, GB 1000-based; KiB, MiB, GiB 1024-based, as Ray's own "512MB" is).
import { BYTE_UNITS } from './values';

export const LOG_SIZE_PATTERN = '^[1-9][0-9]{0,5}(KB|MB|GB|KiB|MiB|GiB)$';

/** Bytes of a checked size (a number is bytes already). */
export function logSizeBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)(KB|MB|GB|KiB|MiB|GiB)$/.exec(value);
  if (!m) throw new Error(`internal: log size ${value} was checked but does not parse`);
  return Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!;
}

/** A byte count in the largest 1024-based unit that divides it ("512MiB"), else bytes. */
export function logSizeWords(bytes: number): string | number {
  for (const unit of ['GiB', 'MiB', 'KiB']) {
    const size = BYTE_UNITS[unit.toLowerCase()]!;
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return bytes;
}
