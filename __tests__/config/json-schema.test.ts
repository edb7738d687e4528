// The editor schema and docs/config.md are generated from the validator's own schema and kept equal
// to it here. UPDATE_GENERATED=1 rewrites the committed files.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { configReference, publishedSchema, publishedSchemaText } from '../../src/config/json-schema';
import { configSchema } from '../../src/config/schema';

const REPO = join(__dirname, '..', '..');
const SCHEMA_FILE = join(REPO, 'schema', 'ray-config.schema.json');
const DOCS_FILE = join(REPO, 'docs', 'config.md');

function keptEqual(file: string, wanted: string): void {
  if (process.env.UPDATE_GENERATED) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, wanted);
  }
  expect(readFileSync(file, 'utf8'), `${file} is out of date: UPDATE_GENERATED=1 npx vitest run ${__filename}`).toBe(
    wanted,
  );
}

/** Every key of the schema, by path, with its own schema. */
function everyKey(schema: Record<string, unknown>, path = ''): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [key, sub] of Object.entries(props)) {
    const here = path ? `${path}.${key}` : key;
    out.push([here, sub]);
    out.push(...everyKey(sub, here));
    const items = sub.items as Record<string, unknown> | undefined;
    if (items) out.push(...everyKey(items, `${here}[]`));
  }
  for (const [pattern, sub] of Object.entries(
    (schema.patternProperties ?? {}) as Record<string, Record<string, unknown>>,
  ))
    out.push([`${path}/${pattern}/`, sub]);
  return out;
}

describe('the published JSON Schema', () => {
  it('starts from a validator schema that is valid as a schema (validate skips that check to start faster)', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
    expect(ajv.validateSchema(configSchema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(configSchema)).not.toThrow();
  });

  it('is committed as generated', () => keptEqual(SCHEMA_FILE, publishedSchemaText()));

  it('is draft 2020-12, valid as a schema, without the validator-only keywords', () => {
    const schema = publishedSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(new Ajv2020({ strict: true, allowUnionTypes: true }).validateSchema(schema)).toBe(true);
    expect(publishedSchemaText()).not.toMatch(/x-expected|x-hint/);
  });

  it('gives every key a description and an example that the schema itself accepts', () => {
    const schema = publishedSchema();
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    const keys = everyKey(schema);
    expect(keys.length).toBeGreaterThan(25);
    for (const [path, sub] of keys) {
      expect(String(sub.description ?? ''), `${path}: description`).toMatch(/\w{3}/);
      const examples = sub.examples as unknown[] | undefined;
      expect(examples?.length, `${path}: example`).toBeGreaterThan(0);
      if (!path.includes('/^x-/')) {
        const check = ajv.compile({ ...sub, $schema: undefined, $id: undefined });
        for (const example of examples!) expect(check(example), `${path}: ${JSON.stringify(example)}`).toBe(true);
      }
    }
  });

  it('accepts every example and valid fixture config, and refuses what the validator refuses', () => {
    const check = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(publishedSchema());
    const files = [
      ...readdirSync(join(REPO, 'examples'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join(REPO, 'examples', f)),
      ...readdirSync(join(REPO, '__tests__/fixtures/configs/valid')).map((f) =>
        join(REPO, '__tests__/fixtures/configs/valid', f),
      ),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(check(parse(text, { merge: true })), `${file}: ${JSON.stringify(check.errors)}`).toBe(true);
      expect(parseConfig(text, file, { defaultUser: 'u' }).diagnostics.filter((d) => d.severity === 'error')).toEqual(
        [],
      );
    }
    expect(check({ nodes: [{ ssh_url: 'h', name: 'h', role: 'haed' }] })).toBe(false);
    expect(check({ nodes: [{ ssh_url: 'h', name: 'h', role: 'head', ray_config: { num_cpu: 2 } }] })).toBe(false);
  });

  it('the examples point editors at it', () => {
    for (const f of readdirSync(join(REPO, 'examples')).filter((name) => name.endsWith('.yaml'))) {
      expect(readFileSync(join(REPO, 'examples', f), 'utf8').split('\n')[0], f).toBe(
        '# yaml-language-server: $schema=../schema/ray-config.schema.json',
      );
    }
  });
});

describe('docs/config.md', () => {
  it('is committed as generated', () => keptEqual(DOCS_FILE, configReference()));

  it('lists every key of the schema, and the README links it', () => {
    const docs = configReference();
    for (const [path] of everyKey(publishedSchema())) {
      const key = path
        .split(/[.[\]]+/)
        .filter(Boolean)
        .pop()!;
      if (!path.includes('/^x-/')) expect(docs, path).toContain(`| \`${key}\` |`);
    }
    expect(readFileSync(join(REPO, 'README.md'), 'utf8')).toContain('(docs/config.md)');
  });
});
