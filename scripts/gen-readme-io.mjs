// Writes the Action's inputs and outputs tables into README.md from action.yml, between the markers
// <!-- inputs:start --> / <!-- inputs:end --> and <!-- outputs:start --> / <!-- outputs:end -->,
// so the README never disagrees with action.yml.
//   node scripts/gen-readme-io.mjs          rewrite README.md
//   node scripts/gen-readme-io.mjs --check  exit 1 when README.md is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const readmePath = join(root, 'README.md');

const cell = (text) =>
  String(text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
const code = (text) => (text === undefined || text === '' ? '' : `\`${String(text).replace(/`/g, "'")}\``);

export function inputsTable(action) {
  const rows = Object.entries(action.inputs ?? {}).map(
    ([name, input]) => `| \`${name}\` | ${cell(code(input.default))} | ${cell(input.description)} |`,
  );
  return ['| input | default | description |', '| --- | --- | --- |', ...rows].join('\n');
}

export function outputsTable(action) {
  const rows = Object.entries(action.outputs ?? {}).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description)} |`,
  );
  return ['| output | description |', '| --- | --- |', ...rows].join('\n');
}

export function fill(readme, marker, content) {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a === -1 || b === -1 || b < a) throw new Error(`README.md has no ${start} ... ${end} markers`);
  return `${readme.slice(0, a + start.length)}\n${content}\n${readme.slice(b)}`;
}

export function generate(readme, actionYaml) {
  const action = parse(actionYaml);
  return fill(fill(readme, 'inputs', inputsTable(action)), 'outputs', outputsTable(action));
}

const readme = readFileSync(readmePath, 'utf8');
const next = generate(readme, readFileSync(join(root, 'action.yml'), 'utf8'));
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README.md inputs/outputs tables differ from action.yml: run node scripts/gen-readme-io.mjs');
    process.exit(1);
  }
  console.log('README.md inputs/outputs tables match action.yml');
} else if (next !== readme) {
  writeFileSync(readmePath, next);
  console.log('README.md inputs/outputs tables updated from action.yml');
}
