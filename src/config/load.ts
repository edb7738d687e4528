// loadConfig: the only part of config/ that touches the file system.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseConfig, type ParseOptions } from './parse';
import { parseRequirementsFile } from './requirements';
import type { ParseResult } from './types';

export function loadConfig(path: string, opts: ParseOptions = {}): ParseResult {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.includes(0))
      return unreadable(
        path,
        'the config file is not a text file',
        'point --config / the config input at the YAML file',
      );
    text = bytes.toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'the config file does not exist'
        : code === 'EISDIR'
          ? 'the config path is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'the config file cannot be read (permission denied)'
            : `the config file cannot be read (${code ?? (error as Error).message})`;
    return unreadable(path, why, `check --config / the config input (relative paths start at ${process.cwd()})`);
  }
  return withRequirementsFile(parseConfig(text, path, opts));
}

/** ray_spec.install.requirements read beside the config (on the deployer: the nodes get its lines). */
function withRequirementsFile(parsed: ParseResult): ParseResult {
  const install = parsed.config?.install;
  if (!parsed.config || !install?.requirementsFile) return parsed;
  const file = resolve(dirname(parsed.config.file), install.requirementsFile);
  const pos = parsed.config.positions?.['ray_spec.install.requirements'];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      diagnostics: [
        ...parsed.diagnostics,
        {
          severity: 'error',
          file: parsed.config.file,
          line: pos?.line ?? 1,
          col: pos?.col ?? 1,
          path: 'ray_spec.install.requirements',
          message: `the requirements file ${file} cannot be read (${code === 'ENOENT' ? 'it does not exist' : (code ?? String(error))})`,
          hint: 'the path is relative to the config file: put the file there or correct ray_spec.install.requirements',
        },
      ],
    };
  }
  const read = parseRequirementsFile(text, file);
  if (read.diagnostics.length) return { diagnostics: [...parsed.diagnostics, ...read.diagnostics] };
  // the file's packages first, then the `packages:` list
  install.requirements = [...read.requirements, ...install.requirements];
  return parsed;
}

function unreadable(file: string, message: string, hint: string): ParseResult {
  return { diagnostics: [{ severity: 'error', file, line: 1, col: 1, path: '', message, hint }] };
}
