// Checks the plain tree against the JSON Schema and rewrites each ajv error into plain words at the
// offending key or value: `nodes[1].ray_config.num_cpus: expected a non-negative integer, found "four"`.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { closestMatch } from './did-you-mean';
import type { Findings } from './diagnostics';
import { formatPath, segmentsFromPointer } from './paths';
import { configSchema, KEYS_BY_SECTION, REQUIRED_KEY_WORDS, sectionOf, sectionsHolding } from './schema';
import { describeFound, typeMixUpHint } from './values';
import type { SourceIndex } from './yaml/source-index';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    // The schema is our own and checked against the meta-schema by a test (json-schema.test.ts): at
    // run time compiling the meta-schema and optimizing the code was half the start-up of `validate`.
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strict: true,
      allowUnionTypes: true,
      validateSchema: false,
      meta: false,
      code: { optimize: false },
    });
    ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
    compiled = ajv.compile(configSchema);
  }
  return compiled;
}

/** Reports every shape problem; returns the paths that had one, so later checks can skip them. */
export function checkSchema(root: unknown, index: SourceIndex, findings: Findings): Set<string> {
  const validate = validator();
  const reported = new Set<string>();
  if (validate(root)) return reported;
  const errors = validate.errors ?? [];
  // `ssh_ulr:` is both an unknown key and a missing `ssh_url`: say it once, as the typo.
  const typoFixes = new Set<string>();
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties') continue;
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const match = closestMatch(
      key,
      KEYS_BY_SECTION[sectionOf(formatPath(segmentsFromPointer(error.instancePath, root)))] ?? [],
    );
    if (match) typoFixes.add(`${error.instancePath}/${match}`);
  }
  for (const error of errors) {
    const segments = segmentsFromPointer(error.instancePath, root);
    const path = formatPath(segments);
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const keyPath = formatPath([...segments, key]);
      if (reported.has(keyPath)) continue;
      reported.add(keyPath);
      findings.error(keyPath, `unknown key "${key}"`, { at: 'key', hint: unknownKeyHint(key, path) });
      continue;
    }
    if (error.keyword === 'required') {
      const key = String((error.params as { missingProperty: string }).missingProperty);
      if (typoFixes.has(`${error.instancePath}/${key}`)) continue;
      const keyPath = formatPath([...segments, key]);
      if (reported.has(keyPath)) continue;
      reported.add(keyPath);
      findings.error(path, `missing required key \`${key}\``, { hint: `add ${REQUIRED_KEY_WORDS[key] ?? key}` });
      continue;
    }
    if (reported.has(path)) continue;
    reported.add(path);
    const { message, hint } = wrongValue(error, path, index);
    findings.error(path, message, hint ? { hint } : {});
  }
  return reported;
}

function wrongValue(error: ErrorObject, path: string, index: SourceIndex): { message: string; hint?: string } {
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const secret = /[._]password$/.test(path);
  const expected = (schema['x-expected'] as string | undefined) ?? String(schema.type ?? 'another value');
  const message = `expected ${expected}, found ${describeFound(error.data, secret)}`;
  const staticHint = schema['x-hint'] as string | undefined;
  if (error.keyword === 'enum' && typeof error.data === 'string') {
    const match = closestMatch(error.data, (schema.enum as string[]) ?? []);
    if (match) return { message, hint: `did you mean "${match}"?` };
  }
  if (error.keyword === 'minimum' && /object_store_memory$/.test(path)) {
    return { message, hint: 'Ray refuses to start with a smaller object store; leave the key out to let Ray choose' };
  }
  const types = ([] as string[]).concat((schema.type as string | string[] | undefined) ?? []);
  const mainType = types.find((t) => t !== 'null') ?? '';
  const hint = staticHint ?? typeMixUpHint(error.data, mainType, index.rawValue(path), secret);
  return hint ? { message, hint } : { message };
}

function unknownKeyHint(key: string, sectionPath: string): string {
  const section = sectionOf(sectionPath);
  const allowed = KEYS_BY_SECTION[section] ?? [];
  const glued = /^([\w-]+):(\S.*)$/.exec(key);
  if (glued && allowed.includes(glued[1]!)) return `add a space after the colon: \`${glued[1]}: ${glued[2]}\``;
  if (/private|identity/i.test(key)) {
    return 'private keys do not belong in the config: pass them with the ssh-private-key input or --identity; `sshkey` under users takes the matching PUBLIC key line';
  }
  const match = closestMatch(key, allowed);
  if (match) return `did you mean "${match}"?`;
  // Prefer a section inside this one: `num_cpus` on a node belongs in its ray_config, not in ray_spec.
  const elsewhere = sectionsHolding(key)
    .filter((s) => s !== section)
    .sort((a, b) => Number(!a.startsWith(section)) - Number(!b.startsWith(section)));
  if (elsewhere.length > 0) return `${key} belongs ${describeSection(elsewhere[0]!)}`;
  return `allowed here: ${allowed.join(', ')}`;
}

function describeSection(section: string): string {
  switch (section) {
    case '':
      return 'at the top level';
    case 'ray_spec':
      return 'under ray_spec';
    case 'nodes[]':
      return 'directly in the node (next to name and role)';
    case 'nodes[].ray_config':
      return "under the node's ray_config";
    case 'nodes[].storage':
      return "under the node's storage";
    case 'nodes[].users[]':
      return "in an item of the node's users list";
    default:
      return `under ${section}`;
  }
}
