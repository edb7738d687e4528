// Usage slips get exit 2 and "did you mean"; help shows each command's flags; shell completion works.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, FLAGS } from '../../src/cli/args';
import { main } from '../../src/cli/main';

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { HOME: tmpdir() },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

describe('usage slips exit 2 with the fix', () => {
  it.each([
    [['ray', '--config', 'x.yaml'], `nokube: missing command: nokube ray <${COMMANDS.join('|')}>`],
    [[], 'nokube: missing command: nokube ray <command>'],
    [['ray', 'valdate'], 'nokube: unknown command "ray valdate": did you mean "nokube ray validate"?'],
    [['ray', 'stauts'], 'did you mean "nokube ray status"?'],
    [['ray', 'validate', '--conifg', 'x.yaml'], 'nokube: unknown flag --conifg (did you mean --config?)'],
    [['ray', 'plan', '--ofline'], 'unknown flag --ofline (did you mean --offline?)'],
    [['ray', 'plan', '--identiy=k'], 'unknown flag --identiy (did you mean --identity?)'],
    [['validate'], 'unknown command "validate": expected "nokube ray <command>" (did you mean "nokube ray validate"?)'],
    [['completion', 'fish'], 'no completion for "fish": use bash or zsh'],
  ])('%j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('To specify a positional argument');
    expect(r.stdout).toBe('');
  });
});

describe('help', () => {
  it('nokube ray --help lists the commands and every flag, exit 0', async () => {
    const r = await cli(['ray', '--help']);
    expect(r.code).toBe(0);
    for (const command of COMMANDS) expect(r.stdout).toContain(`  ${command} `);
    for (const flag of FLAGS) expect(r.stdout).toContain(`--${flag.name}`);
  });

  it('nokube ray <command> --help shows that command flags only', async () => {
    const plan = await cli(['ray', 'plan', '--help']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Usage: nokube ray plan [options]');
    expect(plan.stdout).toMatch(/--offline +do not contact the nodes/);
    expect(plan.stdout).toContain('--previous FILE');
    const validate = await cli(['ray', 'validate', '--help']);
    expect(validate.stdout).toContain('--allow-missing-env');
    expect(validate.stdout).not.toMatch(/^ +--offline/m);
    expect(validate.stdout).not.toContain('--identity');
    const start = await cli(['ray', 'start', '-h']);
    expect(start.stdout).toContain('--identity KEYFILE');
    expect(start.stdout).not.toContain('--previous');
  });
});

describe('shell completion', () => {
  async function script(shell: string): Promise<string> {
    const r = await cli(['completion', shell]);
    expect(r.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'nokube-completion-'));
    const file = join(dir, shell);
    writeFileSync(file, r.stdout);
    return file;
  }

  /** What bash offers after the words typed so far (the last one is being completed). */
  function bashComplete(file: string, words: string[]): string[] {
    const program = `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nokube; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
  }

  it('bash completes commands and each command flags', async () => {
    const file = await script('bash');
    expect(bashComplete(file, ['nokube', 'ray', ''])).toEqual([...COMMANDS]);
    expect(bashComplete(file, ['nokube', 'ray', 'va'])).toEqual(['validate']);
    expect(bashComplete(file, ['nokube', 'ray', 'plan', '--of'])).toEqual(['--offline']);
    expect(bashComplete(file, ['nokube', 'ray', 'start', '--of'])).toEqual([]);
    expect(bashComplete(file, ['nokube', 'co'])).toEqual(['completion']);
  });

  it('the zsh script is valid zsh', async () => {
    const file = await script('zsh');
    const zsh = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    if (zsh.error) {
      // zsh is not installed here: at least its shape
      expect(process.env.CI, 'zsh must be installed in CI (scripts/setup-test-env.sh)').not.toBe('true');
      expect(readFirstLine(file)).toBe('#compdef nokube');
      return;
    }
    expect(zsh.status, zsh.stderr).toBe(0);
  });
});

function readFirstLine(file: string): string {
  return execFileSync('head', ['-1', file], { encoding: 'utf8' }).trim();
}
