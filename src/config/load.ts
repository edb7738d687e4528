// loadConfig: the only part of config/ that touches the file system.
import { readFileSync } from 'node:fs';
import { parseConfig, type ParseOptions } from './parse';
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
  return parseConfig(text, path, opts);
}

function unreadable(file: string, message: string, hint: string): ParseResult {
  return { diagnostics: [{ severity: 'error', file, line: 1, col: 1, path: '', message, hint }] };
}
