// YAML text -> a plain tree of values, plus an index that remembers where every key and value was
// written (source-index.ts), so that any later check can point at the user's line and column.
// Syntax problems become diagnostics in plain words (error-words.ts); nothing here throws for user
// input. A big config is read a slice of nodes at a time (slices.ts), else the file is read whole.
import { LineCounter, parseAllDocuments, isMap, isScalar, isSeq } from 'yaml';
import type { Document } from 'yaml';
import { dedupeByPosition } from './dedupe';
import type { Diagnostic } from '../types';
import { describeYamlError } from './error-words';
import { PlainBuilder } from './plain-builder';
import { PARSE_OPTIONS, readInSlices, SLICE_BYTES } from './slices';
import { SourceIndex, type YamlSource } from './source-index';

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

export function readYaml(input: string, file: string, opts: ReadOptions = {}): YamlSource {
  const text = normalized(input);
  return readInSlices(text, file, opts.sliceBytes ?? SLICE_BYTES) ?? readWhole(text, file);
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
