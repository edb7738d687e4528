// YAML paths in the user's words: `nodes[1].ray_config.num_cpus`, `ray_config.labels["nokube.io/zone"]`.
// Every diagnostic and every recorded source position is keyed by this one spelling.

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Turns an ajv instancePath (JSON pointer) into segments; numbers stay numbers where the data is a list. */
export function segmentsFromPointer(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(key);
      segments.push(index);
      current = current[index];
    } else {
      segments.push(key);
      current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

/** `nodes[3].users[0].password` -> 3: the node a path is about, if any. */
export function nodeIndexOf(path: string): number | undefined {
  const match = /^nodes\[(\d+)\]/.exec(path);
  return match ? Number(match[1]) : undefined;
}

/** `joinPath('nodes[0].ray_config.labels', 'nokube.io/zone')` -> `nodes[0].ray_config.labels["nokube.io/zone"]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (PLAIN_KEY.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}
