// The shape of the house, kept by a test: every import of src/**/*.ts read with the TypeScript
// parser, then (a) no import cycle anywhere, (b) arrows point one way between the layers (STYLE.md):
//
//   action, cli  →  engine  →  remote, ssh, config        render  ←  action, cli
//
// render draws the engine's result, so it may import the engine's *types* (`import type` from
// src/engine/types.ts) and nothing else of it; the engine never imports render (it returns a typed
// result, it never prints). Inside the engine: stories (the top folder) → steps/ → decisions/.
// A failure names the file and the import that break the rule.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

interface Import {
  /** The importing file, relative to the repository ("src/engine/start.ts"). */
  from: string;
  /** What it names: a module ("@actions/core") or, resolved, a file ("src/engine/types.ts"). */
  to: string;
  /** As written in the file. */
  spec: string;
  /** `import type` / `export type` (or every name in it is a type): gone after compiling. */
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveSpec(fromFile: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return relative(ROOT, candidate);
    } catch {
      // not this one
    }
  }
  return relative(ROOT, base);
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean) =>
    found.push({ from: relative(ROOT, file), to: resolveSpec(file, spec), spec, typeOnly });
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!named &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const allTypes =
        node.isTypeOnly ||
        (!!clause &&
          ts.isNamedExports(clause) &&
          clause.elements.length > 0 &&
          clause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier.text, allTypes);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node.argument.literal.text, true);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const FILES = sourceFiles(SRC).map((f) => relative(ROOT, f));
const IMPORTS = sourceFiles(SRC).flatMap(importsOf);
const LOCAL = IMPORTS.filter((i) => i.to.startsWith('src/'));

/** The top folder under src/ ("engine", "render", ...). */
function layer(path: string): string {
  return path.split('/')[1];
}

function show(i: Import): string {
  return `${i.from} imports '${i.spec}'${i.typeOnly ? ' (types)' : ''}`;
}

/** Import cycles: the strongly connected components of the file graph with more than one file (or a file importing itself). */
export function importCycles(imports: Import[]): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const i of imports) {
    if (!edges.has(i.from)) edges.set(i.from, new Set());
    edges.get(i.from)!.add(i.to);
  }
  // Tarjan's algorithm
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!indexOf.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges.get(v)?.has(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!indexOf.has(v)) connect(v);
  return cycles;
}

/**
 * Which layers each layer may import (its own always). Front ends at the top, the engine in the
 * middle, the parts below; render is a part the front ends use to draw the engine's result.
 */
const MAY_IMPORT: Record<string, string[]> = {
  action: ['engine', 'config', 'ssh', 'remote', 'render', 'words', 'credentials'],
  cli: ['engine', 'config', 'ssh', 'remote', 'render', 'words', 'credentials'],
  engine: ['config', 'ssh', 'remote', 'words', 'credentials'],
  remote: ['ssh'], // the shell quoting of src/ssh/quote.ts
  // ssh takes its own target types; both it and config read `${NAME}` credentials the same way
  ssh: ['credentials'],
  config: ['credentials'],
  // `${NAME}` references in credentials, read from the environment: a leaf
  credentials: [],
  // engine: its result types only; ssh: its shell quoting only (both checked below)
  render: ['config', 'engine', 'ssh', 'words'],
  // the user's words every layer shares (sizes, Ray's job message): a leaf
  words: [],
};

describe('the import graph of src/', () => {
  it('reads every file and finds its imports', () => {
    expect(FILES.length).toBeGreaterThan(50);
    expect(LOCAL.some((i) => i.from === 'src/cli/main.ts' && layer(i.to) === 'engine')).toBe(true);
  });

  it('has no import cycle', () => {
    const cycles = importCycles(LOCAL);
    expect(
      cycles.map((c) => c.join(' → ')),
      'files that import each other, directly or around a loop',
    ).toEqual([]);
  });

  it('points one way between the layers', () => {
    const up = LOCAL.filter((i) => {
      const [a, b] = [layer(i.from), layer(i.to)];
      return a !== b && !MAY_IMPORT[a]?.includes(b);
    });
    expect(
      up.map(show),
      'imports against the layers (action, cli → engine → remote, ssh, config; render below the front ends)',
    ).toEqual([]);
  });

  it('lets render use only the shell quoting of src/ssh', () => {
    const bad = LOCAL.filter((i) => layer(i.from) === 'render' && layer(i.to) === 'ssh' && i.to !== 'src/ssh/quote.ts');
    expect(bad.map(show), 'render may import src/ssh/quote.ts, nothing else of src/ssh').toEqual([]);
  });

  it('lets render import only the engine result types, as types', () => {
    const bad = LOCAL.filter(
      (i) => layer(i.from) === 'render' && layer(i.to) === 'engine' && !(i.typeOnly && i.to === 'src/engine/types.ts'),
    );
    expect(bad.map(show), 'render may `import type` from src/engine/types.ts, nothing else of the engine').toEqual([]);
  });

  it('loads the config in one place: the door of the engine', () => {
    const loaders = FILES.filter(
      (f) => layer(f) === 'engine' && /\b(loadConfig|parseConfig)\(/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(loaders, 'only src/engine/steps/load-config.ts reads a config (run() calls it once)').toEqual([
      'src/engine/steps/load-config.ts',
    ]);
  });

  it('keeps @actions/* inside src/action', () => {
    const bad = IMPORTS.filter((i) => i.spec.startsWith('@actions/') && layer(i.from) !== 'action');
    expect(bad.map(show), 'only src/action/ may import @actions/*').toEqual([]);
  });

  it('keeps the engine story → steps → decisions inside src/engine', () => {
    const room = (path: string) => {
      const parts = path.split('/');
      return parts.length > 3 ? parts[2] : 'stories';
    };
    const rank: Record<string, number> = { stories: 0, steps: 1, decisions: 2 };
    const bad = LOCAL.filter((i) => {
      if (layer(i.from) !== 'engine' || layer(i.to) !== 'engine') return false;
      // types.ts is what every room shares (the run's options and result)
      if (i.to === 'src/engine/types.ts') return false;
      return rank[room(i.to)] < rank[room(i.from)];
    });
    expect(bad.map(show), 'a step never imports a story; a decision never imports a step or a story').toEqual([]);
  });

  it('keeps src/ssh free of src/config: it takes its own target and credential types', () => {
    const bad = LOCAL.filter((i) => layer(i.from) === 'ssh' && layer(i.to) === 'config');
    expect(bad.map(show), 'src/ssh imports nothing from src/config: it takes its own small types').toEqual([]);
  });
});
