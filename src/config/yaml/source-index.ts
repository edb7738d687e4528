// Where every key and value of a config was written (offsets, turned into line and column on
// demand), so that any later check can point at the user's line; and what reading a config gives.
import type { LineCounter } from 'yaml';
import type { Diagnostic, SourcePos } from '../types';

interface Spot {
  key: number;
  value: number;
}

/** Where each path (`nodes[1].ray_config.num_cpus`) was written: its key and its value, as offsets. */
export class SourceIndex {
  private readonly spots = new Map<string, Spot>();

  constructor(
    readonly text: string,
    private readonly lines: LineCounter,
  ) {}

  record(path: string, spot: Spot): void {
    if (!this.spots.has(path)) this.spots.set(path, spot);
  }

  has(path: string): boolean {
    return this.spots.has(path);
  }

  /** The position of a path's key or value; a path that was never written falls back to its parent. */
  positionOf(path: string, which: 'key' | 'value' = 'value'): SourcePos {
    for (let p: string | undefined = path; p !== undefined; p = parentPath(p)) {
      const spot = this.spots.get(p);
      if (spot) return this.positionAt(p === path ? spot[which] : spot.value);
    }
    return { line: 1, col: 1 };
  }

  /** Offset of a path's value in the text, for checks that point inside a value. */
  valueOffset(path: string): number | undefined {
    return this.spots.get(path)?.value;
  }

  /** Every recorded path with the position of its key (list items: the item), for the typed model. */
  keyPositions(): Record<string, SourcePos> {
    const out: Record<string, SourcePos> = {};
    for (const [path, spot] of this.spots) if (path !== '') out[path] = this.positionAt(spot.key);
    return out;
  }

  /** The path whose value starts last at or before an offset: what a finding inside a value is about. */
  pathAt(offset: number): string {
    let best = '';
    let bestOffset = -1;
    for (const [path, spot] of this.spots) {
      if (spot.value <= offset && spot.value > bestOffset) {
        best = path;
        bestOffset = spot.value;
      }
    }
    return best;
  }

  /** A one-line value as written (`2.10`, not the number 2.1), for hints that repeat it. */
  rawValue(path: string): string | undefined {
    const offset = this.spots.get(path)?.value;
    if (offset === undefined) return undefined;
    const end = this.text.indexOf('\n', offset);
    return this.text
      .slice(offset, end < 0 ? undefined : end)
      .replace(/\s+#.*$/, '')
      .replace(/[,}\]]+$/, '')
      .trim();
  }

  positionAt(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }
}

function parentPath(path: string): string | undefined {
  if (path === '') return undefined;
  const match = /(\.[^.[\]]+|\[[^\]]*\])$/.exec(path);
  if (!match) return '';
  return path.slice(0, match.index);
}

export interface YamlSource {
  /** The document as plain values; undefined when the YAML could not be read. */
  root?: unknown;
  index: SourceIndex;
  diagnostics: Diagnostic[];
  /** How many slices the nodes list was read in; absent when the file was read as one document. */
  slices?: number;
}
