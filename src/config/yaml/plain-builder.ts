// YAML nodes -> plain values, recording where each path was written, with aliases and merge keys
// expanded as YAML loaders do, but bounded: an alias bomb, an alias to itself or an unknown anchor
// becomes a diagnostic, never a hang or a stack overflow.
import { isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { joinPath } from '../paths';
import type { SourceIndex } from './source-index';

// Aliases can expand exponentially ("billion laughs"): any number of them is fine, but the tree they
// expand to is bounded by the size of what is written (ten times it, and at least 100,000 values),
// so a bomb stops early while a config that shares settings with anchors never comes near it.
const MIN_EXPANDED_VALUES = 100_000;
const EXPANSION_FACTOR = 10;
const MAX_DEPTH = 64;

/** The nodes list read a slice at a time, in place of the empty `nodes:` of the rest of the document. */
export interface NodesInSlices {
  /** Offset of the `nodes` key. */
  key: number;
  /** Offset of the first item's `-` (where the list's value starts). */
  value: number;
  read: (path: string, depth: number) => unknown[];
}

/**
 * The YAML nodes of one or more documents -> plain values, recording where each path was written.
 * Anchors are known across documents (a slice of the nodes list uses the anchors above it).
 */
export class PlainBuilder {
  /** Anchors by name, in document order. */
  private readonly anchors = new Map<string, YamlNode[]>();
  private written = 0;
  private expanded = 0;
  bombReported = false;
  /** The anchors being expanded right now: an alias to one of them refers to itself. */
  private readonly expanding = new Set<YamlNode>();
  nodesInSlices?: NodesInSlices;

  constructor(
    private readonly index: SourceIndex,
    private readonly error: (offset: number, message: string, hint: string) => void,
  ) {}

  /**
   * Takes a document's nodes in: moves their ranges by `shift` (a slice's offsets -> the file's),
   * remembers the anchors and counts the values written. One walk; yaml's own Alias.resolve walks
   * the whole document for every alias (quadratic on big configs).
   */
  add(root: YamlNode | null, shift?: (offset: number) => number): void {
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as YamlNode;
      if (shift && n.range) n.range = [shift(n.range[0]), shift(n.range[1]), shift(n.range[2])];
      if (isAlias(n)) return;
      if (!isScalar(n) && !isMap(n) && !isSeq(n)) return;
      this.written += 1;
      if (n.anchor) {
        const list = this.anchors.get(n.anchor);
        if (list) list.push(n);
        else this.anchors.set(n.anchor, [n]);
      }
      if (isMap(n)) {
        for (const pair of n.items) {
          walk(pair.key);
          walk(pair.value);
        }
      } else if (isSeq(n)) for (const item of n.items) walk(item);
    };
    walk(root);
  }

  /** The anchor an alias refers to: the last one of that name before it. */
  private resolveAlias(name: string, at: number): YamlNode | undefined {
    let found: YamlNode | undefined;
    for (const node of this.anchors.get(name) ?? []) if ((node.range?.[0] ?? 0) < at) found = node;
    return found;
  }

  private get maxExpanded(): number {
    return Math.max(MIN_EXPANDED_VALUES, EXPANSION_FACTOR * this.written);
  }

  private tooBig(node: YamlNode): void {
    if (!this.bombReported)
      this.error(
        node.range?.[0] ?? 0,
        `too many aliases: they expand to more than ${this.maxExpanded.toLocaleString('en')} values`,
        'an alias refers to a list or mapping that itself repeats aliases (an "alias bomb"): write the values out',
      );
    this.bombReported = true;
  }

  toPlain(node: YamlNode | null | undefined, path: string, depth: number): unknown {
    if (node === null || node === undefined || this.bombReported) return null;
    if (++this.expanded > this.maxExpanded) {
      this.tooBig(node);
      return null;
    }
    if (depth > MAX_DEPTH) return null;
    if (isAlias(node)) {
      const target = this.resolveAlias(node.source, node.range?.[0] ?? 0);
      if (!target) {
        this.error(
          node.range?.[0] ?? 0,
          `unknown alias *${node.source}: no anchor &${node.source} above it`,
          'define the anchor first, or write the value out',
        );
        return null;
      }
      if (this.expanding.has(target)) {
        this.error(
          node.range?.[0] ?? 0,
          `alias *${node.source} refers to itself (it is inside its own anchor &${node.source})`,
          'move the anchor to a value that does not contain the alias',
        );
        return null;
      }
      return this.toPlain(target, path, depth + 1);
    }
    if (isScalar(node)) return node.value;
    if (!node.anchor) return this.collection(node, path, depth);
    this.expanding.add(node);
    try {
      return this.collection(node, path, depth);
    } finally {
      this.expanding.delete(node);
    }
  }

  /** The items of a list, from `first` on: `nodes[first]`, `nodes[first + 1]`, ... */
  items(node: YamlNode, path: string, depth: number, first = 0): unknown[] {
    if (!isSeq(node)) return [];
    return node.items.map((item, i) => {
      const itemPath = joinPath(path, first + i);
      const offset = (item as YamlNode | null)?.range?.[0] ?? node.range?.[0] ?? 0;
      this.index.record(itemPath, { key: offset, value: offset });
      return this.toPlain(item as YamlNode | null, itemPath, depth + 1);
    });
  }

  private collection(node: YamlNode, path: string, depth: number): unknown {
    if (isSeq(node)) return this.items(node, path, depth);
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merges: YamlNode[] = [];
      // A key written twice (reported above): the later one is used, as YAML loaders do, and only it
      // is recorded, so later findings point at the value that is used.
      const last = new Map<unknown, number>();
      node.items.forEach((pair, i) => {
        if (isScalar(pair.key)) last.set(pair.key.value, i);
      });
      for (const [i, pair] of node.items.entries()) {
        if (isScalar(pair.key) && last.get(pair.key.value) !== i) continue;
        const keyNode = pair.key as YamlNode | null;
        if (keyNode && !isScalar(keyNode)) {
          this.error(
            keyNode.range?.[0] ?? 0,
            'a key must be a plain word, not a list or mapping',
            'write keys like `name:`',
          );
          continue;
        }
        // `<<: *defaults` (or a list of them): YAML's merge key, the usual way to share settings.
        if (keyNode?.value === '<<' && keyNode.type === Scalar.PLAIN) {
          if (pair.value) merges.push(pair.value as YamlNode);
          continue;
        }
        const key = String(keyNode?.value ?? '');
        const keyPath = joinPath(path, key);
        const keyOffset = keyNode?.range?.[0] ?? node.range?.[0] ?? 0;
        const slices = this.nodesInSlices;
        if (slices && path === '' && key === 'nodes' && keyOffset === slices.key) {
          this.index.record(keyPath, { key: keyOffset, value: slices.value });
          // counted once, as the list it stands for
          this.expanded += 1;
          out[key] = slices.read(keyPath, depth + 1);
          continue;
        }
        const valueNode = pair.value as YamlNode | null;
        // `storage:` with nothing after it: point at the key, not at the empty spot after the colon.
        const emptyValue =
          !valueNode ||
          (isScalar(valueNode) && valueNode.value === null && valueNode.range?.[0] === valueNode.range?.[1]);
        this.index.record(keyPath, {
          key: keyOffset,
          value: emptyValue ? keyOffset : (valueNode.range?.[0] ?? keyOffset),
        });
        if (key === '__proto__') continue;
        out[key] = this.toPlain(valueNode, keyPath, depth + 1);
      }
      // Keys written here win over merged ones, and an earlier merged mapping over a later one.
      // Merged values keep the positions of where they are written (the anchor's lines).
      for (const source of merges.flatMap((m) => (isSeq(m) ? (m.items as YamlNode[]) : [m]))) {
        const merged = this.mergeSource(source, path, depth);
        for (const [key, value] of Object.entries(merged ?? {})) if (!(key in out)) out[key] = value;
      }
      return out;
    }
    return null;
  }

  /** The mapping a `<<` value brings in, expanded under the merging mapping's path. */
  private mergeSource(source: YamlNode, path: string, depth: number): Record<string, unknown> | undefined {
    const target = isAlias(source) ? this.resolveAlias(source.source, source.range?.[0] ?? 0) : source;
    if (target && !isMap(target)) {
      this.error(
        source.range?.[0] ?? 0,
        '`<<` merges a mapping, but this is ' + (isSeq(target) ? 'a list' : 'a single value'),
        'write `<<: *name` where `&name` is on a mapping, or `<<: [*a, *b]` for several',
      );
      return undefined;
    }
    const value = this.toPlain(source, path, depth + 1);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  }
}
