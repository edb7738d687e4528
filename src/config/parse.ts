// parseConfig: ray-config.yaml text -> typed config + every finding at once. Pure: no I/O; the
// environment only as given in the options.
import { Findings, groupWarnings, sortDiagnostics } from './diagnostics';
import { findPrivateKeys, PRIVATE_KEY_HINT } from './keys';
import { buildConfig } from './model';
import { nodeIndexOf } from './paths';
import { asList, asMap, asString, type PlainMap } from './plain';
import { checkSchema } from './schema-check';
import { checkSemantics } from './semantics';
import type { Diagnostic, ParseResult } from './types';
import { readYaml } from './yaml/read';

export interface ParseOptions {
  /** Login user for nodes without `users` (ssh-user input / --user); without it such nodes get a warning. */
  defaultUser?: string;
  /**
   * The environment credentials' `${NAME}` are read from (the front end passes it; parsing stays pure).
   * Without it references are checked for syntax only.
   */
  env?: Record<string, string | undefined>;
  /** An unset `${NAME}` is a warning instead of an error (an offline plan: secrets are absent by design). */
  allowMissingEnv?: boolean;
}

export function parseConfig(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const source = readYaml(text, file);
  const findings = new Findings(file, source.index);

  // Looked for in the raw text, so a key pasted into a comment or breaking the YAML is still caught.
  for (const offset of findPrivateKeys(source.index.text)) {
    findings.error(source.index.pathAt(offset), 'a private key is pasted into the config (not shown here)', {
      pos: source.index.positionAt(offset),
      hint: PRIVATE_KEY_HINT,
    });
  }

  // readYaml leaves root undefined when the YAML itself could not be read; duplicate keys still give a tree.
  const readable = source.root !== undefined;
  if (readable) {
    const shapeProblems = checkSchema(source.root, source.index, findings);
    checkSemantics(source.root, source.index, findings, shapeProblems, opts);
  }

  const diagnostics = groupWarnings(sortDiagnostics(nameNodes([...source.diagnostics, ...findings.list], source.root)));
  const result: ParseResult = { diagnostics };
  if (readable && !diagnostics.some((d) => d.severity === 'error')) {
    result.config = buildConfig(source.root as PlainMap, file, source.index);
  }
  return result;
}

/** Every finding under `nodes[i]` names that node, when it has a name. */
function nameNodes(diagnostics: Diagnostic[], root: unknown): Diagnostic[] {
  const nodes = asList(asMap(root)?.nodes);
  return diagnostics.map((d) => {
    if (d.node !== undefined) return d;
    const i = nodeIndexOf(d.path);
    const name = i === undefined ? undefined : asString(asMap(nodes[i])?.name);
    return name === undefined ? d : { ...d, node: name };
  });
}
