// The editor schema (schema/ray-config.schema.json, JSON Schema draft 2020-12) and the config
// reference (docs/config.md), both generated from configSchema, the object the validator checks with.
// A test keeps the committed files equal to what these return (UPDATE_GENERATED=1 rewrites them).
import { configSchema } from './schema';

export const SCHEMA_ID = 'https://raw.githubusercontent.com/nokube/ray-deploy/main/schema/ray-config.schema.json';

type SchemaNode = Record<string, unknown>;

/** configSchema without the validator's own `x-` keywords, with the draft and the id. */
export function publishedSchema(): SchemaNode {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value as SchemaNode)
        .filter(([key]) => !/^x-(expected|hint)$/.test(key))
        .map(([key, v]) => [key, key === 'examples' || key === 'default' ? v : strip(v)]),
    );
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'ray-config.yaml (nokube ray)',
    ...(strip(configSchema) as SchemaNode),
  };
}

export function publishedSchemaText(): string {
  return `${JSON.stringify(publishedSchema(), null, 2)}\n`;
}

interface Section {
  title: string;
  /** How the section is written in YAML. */
  where: string;
  schema: SchemaNode;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

function typeWords(schema: SchemaNode): string {
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map(code).join(' or ');
  const types = ([] as string[])
    .concat((schema.type as string | string[] | undefined) ?? [])
    .filter((t) => t !== 'null');
  const words: string[] = types.map((t) => (t === 'object' ? 'mapping' : t === 'array' ? 'list' : t));
  if (typeof schema.minimum === 'number') words.push(`≥ ${schema.minimum}`);
  if (typeof schema.maximum === 'number') words.push(`≤ ${schema.maximum}`);
  return words.join(', ');
}

function sectionTable(section: Section): string {
  const properties = (section.schema.properties ?? {}) as Record<string, SchemaNode>;
  const required = new Set((section.schema.required as string[] | undefined) ?? []);
  const rows = Object.entries(properties).map(([key, schema]) => {
    const def = schema.default !== undefined ? code(schema.default) : required.has(key) ? 'required' : '';
    const example = ((schema.examples as unknown[] | undefined) ?? [])[0];
    return `| \`${key}\` | ${cell(typeWords(schema))} | ${def} | ${cell(String(schema.description ?? ''))} | ${example === undefined ? '' : cell(code(example))} |`;
  });
  return [
    `## ${section.title}`,
    '',
    `${String(section.schema.description ?? '')} Written as \`${section.where}\`.`,
    '',
    '| key | value | default | meaning | example |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** docs/config.md: one table per mapping of the config, every key with its meaning and an example. */
export function configReference(): string {
  const root = configSchema as unknown as SchemaNode;
  const props = root.properties as Record<string, SchemaNode>;
  const node = (props.nodes!.items ?? {}) as SchemaNode;
  const nodeProps = node.properties as Record<string, SchemaNode>;
  const specProps = props.ray_spec!.properties as Record<string, SchemaNode>;
  const sections: Section[] = [
    { title: 'Top level', where: 'ray-config.yaml', schema: root },
    { title: 'ray_spec', where: 'ray_spec:', schema: props.ray_spec! },
    { title: 'ports', where: 'ray_spec: ports:', schema: specProps.ports! },
    { title: 'rollout', where: 'ray_spec: rollout:', schema: specProps.rollout! },
    { title: 'install', where: 'ray_spec: install:', schema: specProps.install! },
    {
      title: 'gcs_fault_tolerance',
      where: 'ray_spec: gcs_fault_tolerance:',
      schema: specProps.gcs_fault_tolerance!,
    },
    { title: 'log_rotation', where: 'ray_spec: log_rotation:', schema: specProps.log_rotation! },
    { title: 'A node', where: 'nodes: - ...', schema: node },
    { title: 'ray_config', where: 'nodes: - ray_config:', schema: nodeProps.ray_config! },
    { title: 'storage', where: 'nodes: - storage:', schema: nodeProps.storage! },
    { title: 'A user', where: 'nodes: - users: - ...', schema: nodeProps.users!.items as SchemaNode },
  ];
  return [
    '<!-- Generated from src/config/schema.ts (src/config/json-schema.ts); do not edit. UPDATE_GENERATED=1 npx vitest run __tests__/config/json-schema.test.ts rewrites it. -->',
    '',
    '# ray-config.yaml reference',
    '',
    'Every key `nokube ray` reads, with its meaning, default and an example. Editors that speak the',
    'YAML language server autocomplete and check these keys from the schema',
    `[schema/ray-config.schema.json](../schema/ray-config.schema.json); put this first line in your file:`,
    '',
    '```yaml',
    `# yaml-language-server: $schema=${SCHEMA_ID}`,
    '```',
    '',
    'Top-level keys starting with `x-` are free for YAML anchors: share settings with',
    '`x-worker-defaults: &worker_defaults {...}` and `<<: *worker_defaults` in each worker.',
    'Credentials may read the environment with `${NAME}` (braces required; `$${` is a literal `${`).',
    '',
    ...sections.map(sectionTable).flatMap((t) => [t, '']),
  ].join('\n');
}
