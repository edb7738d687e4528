import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args';

const settings = (argv: string[]) => {
  const parsed = parseCliArgs(argv);
  if (!('settings' in parsed)) throw new Error('no settings');
  return parsed.settings;
};

describe('status --watch [SECONDS]', () => {
  it('alone, it refreshes every 2 s; a number after it is the period; without it, status looks once', () => {
    expect(settings(['ray', 'status', '--watch']).watchSec).toBe(2);
    expect(settings(['ray', 'status', '--watch', '--json']).watchSec).toBe(2);
    expect(settings(['ray', 'status', '--watch', '1']).watchSec).toBe(1);
    expect(settings(['ray', 'status', '-w', '0.5', '--json'])).toMatchObject({ watchSec: 0.5, json: true });
    expect(settings(['ray', 'status', '--watch=5']).watchSec).toBe(5);
    expect(settings(['ray', 'status']).watchSec).toBeUndefined();
  });

  it('a bad period or another command is bad usage, named', () => {
    expect(() => parseCliArgs(['ray', 'status', '--watch=0'])).toThrow(
      '--watch takes seconds between refreshes, at least 0.5, got "0"',
    );
    expect(() => parseCliArgs(['ray', 'status', '--watch=soon'])).toThrow(/--watch takes seconds/);
    expect(() => parseCliArgs(['ray', 'start', '--watch'])).toThrow('--watch is only for status');
  });
});
