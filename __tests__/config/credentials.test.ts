import { describe, expect, it } from 'vitest';
import { checkReferences, ConfigError, findCredentialRefs, parseConfig, resolveCredential } from '../../src/config';

const where = { node: 'ray-head', field: 'users[0].password' };

describe('resolveCredential', () => {
  it('expands ${NAME} from the environment, several times and mixed with text', () => {
    expect(resolveCredential('${RAY_PASSWORD}', { RAY_PASSWORD: 's3cret' }, where)).toBe('s3cret');
    expect(resolveCredential('pre-${A}-${B}-${A}', { A: '1', B: '2' }, where)).toBe('pre-1-2-1');
  });

  it('leaves text without references alone, and $${ writes a literal ${', () => {
    expect(resolveCredential('plain$text', {}, where)).toBe('plain$text');
    expect(resolveCredential('a$${NOT_A_VAR}b', {}, where)).toBe('a${NOT_A_VAR}b');
  });

  it('throws a ConfigError naming the variable and the node when it is unset', () => {
    let thrown: unknown;
    try {
      resolveCredential('${RAY_PROD_PASSWORD}', { OTHER: 'x' }, where);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.name).toBe('ConfigError');
    expect(error.variable).toBe('RAY_PROD_PASSWORD');
    expect(error.node).toBe('ray-head');
    expect(error.field).toBe('users[0].password');
    expect(error.message).toContain('RAY_PROD_PASSWORD');
    expect(error.message).toContain('ray-head');
    expect(error.hint).toContain('secrets.RAY_PROD_PASSWORD');
  });

  it('treats an empty variable as unset (a missing GitHub secret maps to "")', () => {
    expect(() => resolveCredential('${EMPTY}', { EMPTY: '' }, where)).toThrow(/EMPTY is not set/);
  });

  it('throws for malformed references without repeating the value', () => {
    expect(() => resolveCredential('hunter${2', {}, where)).toThrow(ConfigError);
    try {
      resolveCredential('hunter${2', {}, where);
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter');
    }
  });
});

describe('findCredentialRefs', () => {
  it('lists each referenced variable once, in order', () => {
    expect(findCredentialRefs('${B}:${A}:${B}')).toEqual(['B', 'A']);
    expect(findCredentialRefs('no refs $HOME')).toEqual([]);
    expect(findCredentialRefs('$${ESCAPED} ${REAL}')).toEqual(['REAL']);
  });
});

describe('checkReferences', () => {
  it.each([
    ['${OPEN', 0, 'not closed'],
    ['x${}', 1, 'no variable name'],
    ['${RAY-PASS}', 0, 'invalid variable name "RAY-PASS"'],
    ['${1ABC}', 0, 'invalid variable name'],
  ])('%s -> problem at %i: %s', (value, offset, message) => {
    const [problem] = checkReferences(value);
    expect(problem).toMatchObject({ offset });
    expect(problem!.message).toContain(message);
  });

  it('accepts well-formed references', () => {
    expect(checkReferences('${A_1}${_B}$${C')).toEqual([]);
  });
});

describe('credentials in a config', () => {
  const config = (password: string) =>
    [
      'nodes:',
      '  - ssh_url: h1',
      '    name: head',
      '    role: head',
      '    users:',
      '      - userid: deploy',
      `        password: ${password}`,
      '',
    ].join('\n');

  it('a ${NAME} password is not a plaintext warning and is kept unexpanded for connect time', () => {
    const result = parseConfig(config('${RAY_PASSWORD}'), 'ray-config.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.config!.head.users[0]!.password).toBe('${RAY_PASSWORD}');
  });

  it('a literal password warns without showing it', () => {
    const result = parseConfig(config('"Tr0ub4dor&3"'), 'ray-config.yaml');
    expect(result.diagnostics).toHaveLength(1);
    const [warning] = result.diagnostics;
    expect(warning).toMatchObject({
      severity: 'warning',
      line: 7,
      col: 19,
      path: 'nodes[0].users[0].password',
      node: 'head',
    });
    expect(JSON.stringify(warning)).not.toContain('Tr0ub4dor');
    expect(result.config).toBeDefined();
  });

  it('a malformed reference in a password is an error that does not show the password', () => {
    const result = parseConfig(config('"abc${secretpart"'), 'ray-config.yaml');
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 7, col: 23 });
    expect(JSON.stringify(result.diagnostics)).not.toMatch(/abc|secretpart/);
  });

  it('a password of the wrong type is not echoed', () => {
    const result = parseConfig(config('123456'), 'ray-config.yaml');
    expect(result.diagnostics[0]!.message).toBe(
      'expected a non-empty string, best a ${ENV_NAME} reference, found a number',
    );
    expect(JSON.stringify(result.diagnostics)).not.toContain('123456');
  });
});

describe('${NAME} reads only variables the workflow maps on purpose', () => {
  const env = {
    GITHUB_TOKEN: 'ghs_x',
    GH_TOKEN: 'gho_x',
    ACTIONS_RUNTIME_TOKEN: 'rt',
    INPUT_GITHUB_TOKEN: 'in',
    MINE: 'ok',
  };

  it('never expands a variable of the runner, GitHub or gh', () => {
    for (const name of ['GITHUB_TOKEN', 'GH_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'INPUT_GITHUB_TOKEN', 'RUNNER_TEMP']) {
      expect(() => resolveCredential(`\${${name}}`, env, { node: 'head', field: 'password' }), name).toThrow(
        ConfigError,
      );
    }
    expect(resolveCredential('${MINE}', env, { node: 'head', field: 'password' })).toBe('ok');
  });

  it('is a config error at validate time, at the reference', () => {
    const text = [
      'nodes:',
      '  - ssh_url: h1',
      '    name: head',
      '    role: head',
      '    users:',
      '      - userid: deploy',
      '        password: ${GITHUB_TOKEN}',
      '',
    ].join('\n');
    const result = parseConfig(text, 'ray-config.yaml');
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.message).join('\n')).toMatch(/variable of the runner or GitHub/);
    expect(errors[0]).toMatchObject({ line: 7, col: 19 });
  });
});
