import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../src/ssh/quote';

describe('shellQuote', () => {
  it('leaves plain words readable', () => {
    expect(shellQuote('/opt/nokube/data')).toBe('/opt/nokube/data');
    expect(shellQuote('ray-head_1.x')).toBe('ray-head_1.x');
  });

  it('single-quotes everything else, including the empty string', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$(rm -rf /)')).toBe("'$(rm -rf /)'");
    expect(shellQuote('~')).toBe("'~'");
  });

  it('round-trips hostile strings through a real shell', () => {
    const hostile = [
      "it's",
      '$HOME `id` $(id)',
      'a\nb',
      '*',
      '"; rm -rf / #',
      '\\',
      "'",
      "''",
      '-n',
      'ünïcødé ✓',
      '!x',
      '',
    ];
    for (const s of hostile) {
      const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' });
      expect(out).toBe(s);
    }
    const argv = execFileSync('sh', ['-c', `for a in ${shellJoin(hostile)}; do printf '[%s]' "$a"; done`], {
      encoding: 'utf8',
    });
    expect(argv).toBe(hostile.map((s) => `[${s}]`).join(''));
  });

  it('refuses NUL bytes (a shell cannot carry them)', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});
