// How a found value is shown in a message, and hints for the usual type mix-ups.
// Credentials and anything that looks like a key are never echoed.

const MAX_SHOWN = 60;

export function looksLikePrivateKey(value: string): boolean {
  return /PRIVATE KEY-----|PuTTY-User-Key-File/.test(value);
}

/** `"four"`, `4.5`, `a list`, `nothing`; `a string (not shown)` for secrets. */
export function describeFound(value: unknown, secret = false): string {
  if (value === undefined || value === null) return 'nothing (an empty value)';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    if (looksLikePrivateKey(value)) return 'a private key (not shown)';
    if (secret) return 'a string (not shown)';
    if (value === '') return 'an empty string';
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 1)}…` : value;
    return JSON.stringify(shown);
  }
  if (secret) return `a ${typeof value === 'number' ? 'number' : typeof value}`;
  return String(value);
}

/** Bytes per size unit, by its lower-case name (k and kb 1000-based; ki and kib 1024-based). */
export const BYTE_UNITS: Record<string, number> = {
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * A hint for a value of the wrong type, or undefined.
 * `raw` is the value as written in the file: YAML reads `2.10` as the number 2.1, so quote what was written.
 */
export function typeMixUpHint(
  value: unknown,
  expected: 'integer' | 'number' | 'string' | 'object' | 'array' | string,
  raw?: string,
  secret = false,
): string | undefined {
  if (expected === 'integer' || expected === 'number') {
    if (typeof value === 'string') {
      const text = value.trim();
      if (/^-?\d+(\.\d+)?$/.test(text)) return `write ${text} without quotes: a quoted number is text in YAML`;
      if (/^\d{1,3}([_,]\d{3})+$/.test(text)) return `write the digits only: ${text.replace(/[_,]/g, '')}`;
      const sized = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?)$/i.exec(text);
      if (sized) {
        const bytes = Math.round(Number(sized[1]) * BYTE_UNITS[sized[2]!.toLowerCase()]!);
        return `sizes are plain numbers of bytes: ${text} is ${bytes}`;
      }
    }
    if (typeof value === 'number' && expected === 'integer' && !Number.isInteger(value)) return 'use a whole number';
    return undefined;
  }
  if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    if (secret || raw === undefined) return 'put the value in quotes';
    return `put it in quotes: "${raw.trim()}"`;
  }
  const glued = typeof value === 'string' ? /^([A-Za-z_][\w-]*):(\S.*)$/.exec(value) : null;
  if ((expected === 'object' || expected === 'array') && glued) {
    return `add a space after the colon: \`${glued[1]}: ${glued[2]}\``;
  }
  if (expected === 'array' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return 'start each item with `- `';
  }
  return undefined;
}
