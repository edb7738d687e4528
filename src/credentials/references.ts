// `${NAME}` references in credentials (users of the config): checked when the config is validated
// (src/config), expanded from the environment at login (src/ssh). `$${` writes a literal `${`. A leaf
// both read, so the grammar and the refusal of the runner's own variables live in one place.

/** Thrown by resolveCredential: names the variable and the node, never the value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly node: string;
  readonly field: string;
  readonly variable?: string;
  readonly hint?: string;

  constructor(message: string, details: { node: string; field: string; variable?: string; hint?: string }) {
    super(message);
    this.node = details.node;
    this.field = details.field;
    if (details.variable !== undefined) this.variable = details.variable;
    if (details.hint !== undefined) this.hint = details.hint;
  }
}

export interface ReferenceProblem {
  /** Where in the value the bad reference starts. */
  offset: number;
  message: string;
  hint: string;
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Variables the runner, GitHub or the gh CLI set, never a workflow on purpose: a config that could
 * name them could send the job's own token to a machine as a password. `${NAME}` never reads them.
 */
const RUNNER_VARIABLE = /^(GITHUB_|RUNNER_|ACTIONS_|INPUT_|STATE_)|^(GH_TOKEN|GH_ENTERPRISE_TOKEN|GITHUB_TOKEN)$/i;

export function isRunnerVariable(name: string): boolean {
  return RUNNER_VARIABLE.test(name);
}
const SYNTAX_HINT =
  'write ${NAME} with letters, digits and _ (not starting with a digit); for a literal "${" write "$${"';

/**
 * Malformed references in a value. `showNames` is false for passwords: what follows `${` might be
 * part of the password itself, so it is not repeated.
 */
export function checkReferences(value: string, showNames = true): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  let at = 0;
  for (;;) {
    const start = value.indexOf('${', at);
    if (start < 0) break;
    if (start > 0 && value[start - 1] === '$') {
      at = start + 2;
      continue;
    }
    const close = value.indexOf('}', start + 2);
    if (close < 0) {
      problems.push({ offset: start, message: '`${` is not closed with `}`', hint: SYNTAX_HINT });
      break;
    }
    const name = value.slice(start + 2, close);
    if (name === '') {
      problems.push({ offset: start, message: '`${}` has no variable name', hint: SYNTAX_HINT });
    } else if (!VARIABLE_NAME.test(name)) {
      const shown = showNames && name.length <= 64 ? ` "${name}"` : '';
      problems.push({ offset: start, message: `invalid variable name${shown} in \${...}`, hint: SYNTAX_HINT });
    } else if (isRunnerVariable(name)) {
      problems.push({
        offset: start,
        message: `\${${showNames ? name : '...'}} names a variable of the runner or GitHub (GITHUB_*, RUNNER_*, ACTIONS_*, INPUT_*, STATE_*, GH_TOKEN): a config never reads those`,
        hint: 'map the secret you mean under a name of your own, e.g. env: NODE_PASSWORD: ${{ secrets.NODE_PASSWORD }}, and write ${NODE_PASSWORD}',
      });
    }
    at = close + 1;
  }
  return problems;
}

/** The variables a value refers to, in order, without repeats: `"${A}-${B}"` -> ["A", "B"]. */
export function findCredentialRefs(value: string): string[] {
  const names: string[] = [];
  for (const match of value.matchAll(/\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const name = match[1];
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  return names;
}

/** True when a value holds at least one `${NAME}`: it is not a plaintext literal. */
export function hasCredentialRefs(value: string): boolean {
  return findCredentialRefs(value).length > 0;
}

/**
 * Expands `${NAME}` from `env`. An unset or empty variable throws a ConfigError naming the variable
 * and the node: GitHub Actions gives an empty string for a secret that does not exist.
 */
export function resolveCredential(
  value: string,
  env: Record<string, string | undefined>,
  where: { node: string; field: string },
): string {
  const [problem] = checkReferences(value, false);
  if (problem) {
    throw new ConfigError(`node ${where.node}: ${where.field}: ${problem.message}`, { ...where, hint: problem.hint });
  }
  return value.replace(/\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string | undefined) => {
    if (name === undefined) return '${';
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      throw new ConfigError(`environment variable ${name} is not set (needed by node ${where.node}, ${where.field})`, {
        ...where,
        variable: name,
        hint: `map it into the environment, e.g. env: ${name}: \${{ secrets.${name} }} (an empty value counts as unset)`,
      });
    }
    return resolved;
  });
}
