// YAML text -> a plain tree of values, plus an index that remembers where every key and value was
// written, so that any later check can point at the user's line and column.
// Syntax problems become diagnostics in plain words; nothing here throws for user input.
import { LineCounter, parseAllDocuments, isAlias, isMap, isScalar, isSeq, Scalar, visit } from 'yaml';
import type { Document, Node as YamlNode, YAMLError } from 'yaml';
import type { Diagnostic, SourcePos } from './types';
import { joinPath } from './paths';
import { KEYS_BY_SECTION } from './schema';

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

// Aliases can expand exponentially ("billion laughs"): any number of them is fine, but the tree they
// expand to is bounded by the size of what is written (ten times it, and at least 100,000 values),
// so a bomb stops early while a config that shares settings with anchors never comes near it.
const MIN_EXPANDED_VALUES = 100_000;
const EXPANSION_FACTOR = 10;
const MAX_DEPTH = 64;

/** Thrown when a slice of the nodes list does not read cleanly: the whole document is read instead. */
class NotInSlices extends Error {}

/** The nodes list read a slice at a time, in place of the empty `nodes:` of the rest of the document. */
interface NodesInSlices {
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
class PlainBuilder {
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

/** Text as YAML reads it, with the same length, so every offset still points into the user's file. */
function normalized(input: string): string {
  // Editors show a byte-order mark as nothing; columns must not count it.
  // Lone CR line endings (old Mac editors) are one line to YAML: read them as line breaks.
  return input.replace(/^\uFEFF/, '').replace(/\r(?!\n)/g, '\n');
}

export interface ReadOptions {
  /** About how many bytes of the nodes list are read as one document (tests make it small). */
  sliceBytes?: number;
}

/** A slice of ~4 KB: about a dozen nodes (smaller and the YAML documents per slice start to cost). */
const SLICE_BYTES = 4096;

export function readYaml(input: string, file: string, opts: ReadOptions = {}): YamlSource {
  const text = normalized(input);
  return readInSlices(text, file, opts.sliceBytes ?? SLICE_BYTES) ?? readWhole(text, file);
}

const PARSE_OPTIONS = { uniqueKeys: true, prettyErrors: false } as const;

/**
 * Where the items of a block-style top-level `nodes:` list start, and where the list ends. Undefined
 * for anything else (a flow list, an anchor or tag on the list, tabs, odd indentation): such a file
 * is read whole. The lines are only a guess at the structure: every slice must read cleanly on its
 * own, and the rest of the file too, or the file is read whole (which then says what is wrong).
 */
function nodesListItems(text: string): { key: number; items: number[]; end: number } | undefined {
  const keyLine = /^nodes:[ ]*(?:#.*)?\r?$/m.exec(text);
  if (!keyLine) return undefined;
  const items: number[] = [];
  let indent: number | undefined;
  let pos = text.indexOf('\n', keyLine.index) + 1;
  if (pos === 0) return undefined;
  let end = text.length;
  while (pos < text.length) {
    const eol = text.indexOf('\n', pos);
    const lineEnd = eol < 0 ? text.length : eol;
    let i = pos;
    while (text.charCodeAt(i) === 32) i += 1;
    const c = text[i];
    if (i === lineEnd || c === '\r' || c === '#') {
      pos = lineEnd + 1;
      continue;
    }
    if (c === '\t') return undefined;
    const n = i - pos;
    const next = text[i + 1];
    const item = c === '-' && (next === ' ' || next === '\n' || next === '\r' || next === undefined);
    if (indent === undefined) {
      if (!item) return undefined;
      indent = n;
    }
    if (n === indent && item) items.push(pos);
    else if (n <= indent) {
      if (n !== 0) return undefined;
      end = pos;
      break;
    }
    pos = lineEnd + 1;
  }
  return items.length ? { key: keyLine.index, items, end } : undefined;
}

/**
 * A big config read a slice of nodes at a time: the rest of the file is one small document, each
 * slice of the nodes list another, so only the plain values are ever held for the whole file (a
 * 5 MB config as one YAML document took 450 MB). Undefined when the file is not of that plain shape
 * or any part of it does not read cleanly: readWhole then reads it and reports what it finds.
 */
function readInSlices(text: string, file: string, sliceBytes: number): YamlSource | undefined {
  if (text.length <= sliceBytes) return undefined;
  const list = nodesListItems(text);
  if (!list) return undefined;
  const { items, end } = list;
  const start = items[0]!;
  const cut = end - start;
  const clean = (docs: Document.Parsed[]) =>
    docs.length === 1 && docs[0]!.errors.length === 0 && docs[0]!.warnings.length === 0;

  const rest = parseAllDocuments(text.slice(0, start) + text.slice(end), PARSE_OPTIONS);
  if (!Array.isArray(rest) || !clean(rest)) return undefined;
  const top = rest[0]!.contents;
  if (!isMap(top)) return undefined;
  // the `nodes:` line found in the text is the top-level key, with nothing after it but the list
  const nodesPair = top.items.find((p) => isScalar(p.key) && p.key.value === 'nodes');
  const keyNode = nodesPair?.key as Scalar | undefined;
  if (keyNode?.range?.[0] !== list.key || !isScalar(nodesPair!.value) || nodesPair!.value.value !== null)
    return undefined;

  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines.addNewLine(at + 1);
  const index = new SourceIndex(text, lines);
  const diagnostics: Diagnostic[] = [];
  const builder = new PlainBuilder(index, (offset, message, hint) =>
    diagnostics.push({ severity: 'error', file, ...index.positionAt(offset), path: '', message, hint }),
  );
  builder.add(top, (offset) => (offset >= start ? offset + cut : offset));
  let slices: number | undefined;
  builder.nodesInSlices = {
    key: list.key,
    value: text.indexOf('-', start),
    read: (path, depth) => {
      const out: unknown[] = [];
      slices = 0;
      for (let i = 0; i < items.length;) {
        let j = i + 1;
        while (j < items.length && items[j]! - items[i]! < sliceBytes) j += 1;
        const from = items[i]!;
        const to = j < items.length ? items[j]! : end;
        const docs = parseAllDocuments(text.slice(from, to), PARSE_OPTIONS);
        slices += 1;
        if (!Array.isArray(docs) || !clean(docs)) throw new NotInSlices();
        const seq = docs[0]!.contents;
        if (!isSeq(seq) || seq.items.length !== j - i) throw new NotInSlices();
        builder.add(seq, (offset) => offset + from);
        for (const value of builder.items(seq, path, depth, i)) out.push(value);
        i = j;
      }
      return out;
    },
  };
  try {
    index.record('', { key: top.range[0], value: top.range[0] });
    const root = builder.toPlain(top, '', 0);
    if (builder.bombReported) return { index, diagnostics: dedupeByPosition(diagnostics), slices };
    return { root, index, diagnostics: dedupeByPosition(diagnostics), slices };
  } catch (err) {
    if (err instanceof NotInSlices) return undefined;
    throw err;
  }
}

/** The whole file as one YAML document, with every syntax problem in plain words. */
function readWhole(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const index = new SourceIndex(text, lines);
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number) => index.positionAt(offset);
  const error = (offset: number, message: string, hint: string) =>
    diagnostics.push({ severity: 'error', file, ...at(offset), path: '', message, hint });

  const reportEmpty = () => {
    const onlyComments = /^\s*#/m.test(text);
    error(
      0,
      onlyComments ? 'the file has only comments: there is no `nodes:` list' : 'the file is empty',
      'start from examples/remote-ray-config.yaml: a `nodes:` list with one head',
    );
  };
  const parsed = parseAllDocuments(text, { lineCounter: lines, ...PARSE_OPTIONS });
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const doc = docs[0];

  if (docs.length > 1) {
    const second = docs[1]!.range[0];
    const marker = text.lastIndexOf('---', second);
    error(
      marker >= 0 ? marker : second,
      'more than one YAML document: a `---` line starts a second one',
      'keep everything in one document: remove the extra `---` line',
    );
  }
  if (!doc) {
    reportEmpty();
    return { index, diagnostics };
  }

  // After the first real syntax error the parser's recovery reads the rest differently from what the
  // user meant, so later syntax errors are mostly echoes: report the first one (and every duplicate key).
  let fatal = false;
  for (const problem of doc.errors) {
    const described = describeYamlError(problem, text, doc);
    if (!described) continue;
    if (problem.code !== 'DUPLICATE_KEY') {
      if (fatal) continue;
      fatal = true;
    }
    diagnostics.push({ severity: 'error', file, ...at(described.offset), path: '', ...described.words });
  }
  for (const problem of doc.warnings) {
    diagnostics.push({
      severity: 'warning',
      file,
      ...at(problem.pos[0]),
      path: '',
      message:
        problem.code === 'TAG_RESOLVE_FAILED' ? `${problem.message}; the value is read as plain text` : problem.message,
    });
  }
  if (docs.length > 1) fatal = true;
  if (fatal) return { index, diagnostics: dedupeByPosition(diagnostics) };

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    reportEmpty();
    return { index, diagnostics };
  }
  if (!isMap(doc.contents)) {
    const found = isSeq(doc.contents) ? 'a list' : 'a single value';
    error(
      doc.contents.range?.[0] ?? 0,
      `the top level must be a mapping with \`nodes:\` (and optionally \`ray_spec:\`), found ${found}`,
      isSeq(doc.contents)
        ? 'put the list under a key: `nodes:` on its own line, then the `- ssh_url: ...` items indented below it'
        : 'start from examples/remote-ray-config.yaml',
    );
    return { index, diagnostics };
  }

  const builder = new PlainBuilder(index, error);
  builder.add(doc.contents);
  index.record('', { key: doc.contents.range[0], value: doc.contents.range[0] });
  const root = builder.toPlain(doc.contents, '', 0);
  if (builder.bombReported) return { index, diagnostics: dedupeByPosition(diagnostics) };
  return { root, index, diagnostics: dedupeByPosition(diagnostics) };
}

interface Words {
  message: string;
  hint: string;
}

/** Rewrites the YAML library's errors into what happened and what to do, at the most useful spot. */
function describeYamlError(
  problem: YAMLError,
  text: string,
  doc: Document.Parsed,
): { offset: number; words: Words } | undefined {
  const [start, end] = problem.pos;
  if (problem.code !== 'DUPLICATE_KEY') {
    const slip = commonSlip(text, start);
    if (slip) return slip;
  }
  switch (problem.code) {
    case 'TAB_AS_INDENT':
      return {
        offset: start,
        words: {
          message: 'a tab is used for indentation',
          hint: 'YAML indents with spaces only: replace the tab with spaces',
        },
      };
    case 'DUPLICATE_KEY': {
      const key = /^["']?([^"':\n]*)/.exec(text.slice(start))?.[1]?.trim() ?? '';
      return {
        offset: start,
        words: {
          message: `key \`${key}\` appears twice in the same mapping`,
          hint: 'the later one is used: remove or rename one of them',
        },
      };
    }
    case 'MULTILINE_IMPLICIT_KEY': {
      const newline = text.indexOf('\n', start);
      let offset = newline >= 0 && newline < end ? newline + 1 : start;
      while (text[offset] === ' ') offset += 1;
      return {
        offset,
        words: {
          message: 'this line is indented deeper than the key above it, so YAML reads it as part of the value before',
          hint: 'line it up with the other keys of the same mapping',
        },
      };
    }
    case 'BLOCK_AS_IMPLICIT_KEY':
      // Reported together with MULTILINE_IMPLICIT_KEY when the cause is indentation; alone, it is a `: ` in a value.
      if (doc.errors.some((e) => e.code === 'MULTILINE_IMPLICIT_KEY' && e.pos[0] === start)) return undefined;
      return {
        offset: start,
        words: {
          message: 'a value cannot contain `: ` unless it is quoted',
          hint: 'put the value in quotes, e.g. name: "a: b"',
        },
      };
    case 'BAD_INDENT':
      if (/flow/i.test(problem.message)) {
        return {
          offset: start,
          words: { message: 'a `[` or `{` list is not closed', hint: 'close it with `]` or `}` before the next key' },
        };
      }
      return {
        offset: start,
        words: {
          message: 'inconsistent indentation: the keys of one mapping must start in the same column',
          hint: 'line this key up with the keys above it, using spaces',
        },
      };
    case 'MISSING_CHAR': {
      const quote = /closing (["'])/.exec(problem.message)?.[1];
      if (quote) {
        return {
          offset: openingQuote(doc, text, start, quote),
          words: {
            message: `unclosed ${quote === '"' ? 'double' : 'single'} quote: the string starting here never ends`,
            hint: `add the closing ${quote} at the end of the value`,
          },
        };
      }
      if (/sequence item/i.test(problem.message)) {
        let offset = start;
        while (text[offset] === ' ') offset += 1;
        return {
          offset,
          words: {
            message: 'this line is indented less than the list item above it, but more than the list',
            hint: 'indent it like the keys of that item, or start a new item with `- `',
          },
        };
      }
      break;
    }
    case 'UNEXPECTED_TOKEN':
      if (text[start] === '\t') {
        return {
          offset: start,
          words: {
            message: 'a tab is used for indentation',
            hint: 'YAML indents with spaces only: replace the tab with spaces',
          },
        };
      }
      break;
    case 'MULTIPLE_DOCS':
      return undefined; // reported once, by the caller
  }
  return {
    offset: start,
    words: {
      message: `YAML syntax error: ${problem.message.replace(/\s+at line \d+, column \d+.*$/s, '')}`,
      hint: 'check the indentation (spaces only) and the quoting on this line and the one above',
    },
  };
}

const KNOWN_KEYS = new Set(Object.values(KEYS_BY_SECTION).flat());

/** The line holding an offset: its start offset and its text. */
function lineAt(text: string, offset: number): { start: number; line: string } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  return { start, line: text.slice(start, end < 0 ? undefined : end) };
}

/**
 * The slips people make every day, which the parser reports in its own terms or on a later line:
 * an unquoted `[IPv6]:port`, `name:ray-head` (no space after the colon), `ray_config: port: 10001`
 * (a mapping on the key's own line).
 */
function commonSlip(text: string, offset: number): { offset: number; words: Words } | undefined {
  const { start, line } = lineAt(text, offset);

  const ipv6 = /^(\s*(?:-\s+)?[\w-]+:\s+)(\[[\w.%]*:[\w:.%]*\])(:\d*)?\s*(#.*)?$/.exec(line);
  if (ipv6) {
    return {
      offset: start + ipv6[1]!.length,
      words: {
        message: `an IPv6 address in brackets must be quoted: YAML reads ${ipv6[2]} as a list`,
        hint: `put it in quotes: "${ipv6[2]}${ipv6[3] ?? ''}"`,
      },
    };
  }

  const inline = /^(\s*(?:-\s+)?)([\w-]+):\s+([\w-]+):\s+(\S.*)$/.exec(line);
  if (inline && KNOWN_KEYS.has(inline[3]!)) {
    return {
      offset: start + line.indexOf(inline[3]!, inline[1]!.length + inline[2]!.length + 1),
      words: {
        message: `\`${inline[3]}\` is a key inside ${inline[2]}, so it needs its own line`,
        hint: `write \`${inline[2]}:\` alone, then \`${inline[3]}: ${inline[4]!.trim()}\` on the next line, indented two more spaces (or \`${inline[2]}: {${inline[3]}: ${inline[4]!.trim()}}\`)`,
      },
    };
  }

  // `name:ray-head` is one plain word to YAML; the parser trips over it on this line or the next.
  for (let at = start, n = 0; at > 0 || n === 0; n++) {
    const here = lineAt(text, at);
    const glued = /^(\s*(?:-\s+)?)([\w-]+):([^\s/:][^\s]*)\s*(#.*)?$/.exec(here.line);
    if (glued && KNOWN_KEYS.has(glued[2]!)) {
      return {
        offset: here.start + glued[1]!.length,
        words: {
          message: `\`${glued[2]}:${glued[3]}\` has no space after the colon, so YAML reads it as one word, not a key and its value`,
          hint: `add a space after the colon: \`${glued[2]}: ${glued[3]}\``,
        },
      };
    }
    if (n >= 2 || here.start === 0) break;
    at = here.start - 1;
  }
  return undefined;
}

/** The unclosed quote is where the string starts, not where the file ends. */
function openingQuote(doc: Document.Parsed, text: string, errorOffset: number, quote: string): number {
  let best: number | undefined;
  visit(doc, {
    Scalar(_key, node: Scalar) {
      const type = quote === '"' ? Scalar.QUOTE_DOUBLE : Scalar.QUOTE_SINGLE;
      const range = node.range;
      if (node.type === type && range && range[0] <= errorOffset && range[1] >= errorOffset) {
        if (best === undefined || range[0] > best) best = range[0];
      }
    },
  });
  if (best !== undefined) return best;
  const fallback = text.lastIndexOf(quote, errorOffset - 1);
  return fallback >= 0 ? fallback : errorOffset;
}

function dedupeByPosition(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
