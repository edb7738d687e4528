// Every file in fixtures/configs/invalid holds one mistake and says, in its `# expect:` header, the
// exact line:col and a fragment of the message (and optionally of the hint) it must be reported with.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';

const dir = fileURLToPath(new URL('../fixtures/configs/invalid/', import.meta.url));

interface Expectation {
  line: number;
  col: number;
  message: string;
  hint?: string;
}

// An empty file cannot carry a header.
const WITHOUT_HEADER: Record<string, Expectation> = {
  'empty-file.yaml': { line: 1, col: 1, message: 'the file is empty', hint: 'examples/remote-ray-config.yaml' },
};

function expectationOf(file: string, text: string): Expectation {
  const header = /^# expect: (\d+):(\d+) (.+?)(?: \|\| hint: (.+))?$/m.exec(text);
  if (header) {
    const [, line, col, message, hint] = header;
    return { line: Number(line), col: Number(col), message: message!, ...(hint ? { hint } : {}) };
  }
  const fixed = WITHOUT_HEADER[file];
  if (!fixed) throw new Error(`${file} has no "# expect: LINE:COL message" header`);
  return fixed;
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('invalid configs', () => {
  it('has a corpus of at least 35 mistakes', () => {
    expect(files.length).toBeGreaterThanOrEqual(35);
  });

  it.each(files)('%s is reported at the right spot', (file) => {
    const text = readFileSync(dir + file, 'utf8');
    const expected = expectationOf(file, text);
    const result = parseConfig(text, file, { defaultUser: 'deploy' });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');

    expect(result.config).toBeUndefined();
    // One mistake, one error: no echoes of the same problem.
    expect(errors.map((d) => `${d.line}:${d.col} ${d.message}`)).toHaveLength(1);
    const [error] = errors;
    expect({ line: error!.line, col: error!.col }).toEqual({ line: expected.line, col: expected.col });
    expect(error!.message).toContain(expected.message);
    if (expected.hint) expect(error!.hint).toContain(expected.hint);
    expect(error!.file).toBe(file);
  });
});
