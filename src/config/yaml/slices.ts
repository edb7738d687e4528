// A big config read a slice of its nodes list at a time (see readInSlices), so that only the plain
// values are ever held for the whole file. Falls back to reading the file whole whenever a slice
// does not read cleanly on its own.
import { LineCounter, parseAllDocuments, isMap, isScalar, isSeq } from 'yaml';
import type { Document, Scalar } from 'yaml';
import { dedupeByPosition } from './dedupe';
import type { Diagnostic } from '../types';
import { PlainBuilder } from './plain-builder';
import { SourceIndex, type YamlSource } from './source-index';

/** A slice of ~4 KB: about a dozen nodes (smaller and the YAML documents per slice start to cost). */
export const SLICE_BYTES = 4096;

/** How every part of a file is parsed; a file read whole (read.ts) is parsed the same way. */
export const PARSE_OPTIONS = { uniqueKeys: true, prettyErrors: false } as const;

/** Thrown when a slice of the nodes list does not read cleanly: the whole document is read instead. */
class NotInSlices extends Error {}

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
export function readInSlices(text: string, file: string, sliceBytes: number): YamlSource | undefined {
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
