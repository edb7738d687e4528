// Reading the plain YAML tree defensively: semantic checks run even when the shape check failed
// elsewhere, so every accessor tolerates a value of the wrong type.

export type PlainMap = Record<string, unknown>;

export function asMap(value: unknown): PlainMap | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as PlainMap) : undefined;
}

export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A whole number, or undefined (the shape check reports anything else). */
export function asInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}
