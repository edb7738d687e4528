import { describe, expect, it } from 'vitest';
import { UsageError, durationSec, parseCliArgs } from '../../src/cli/args';

const settings = (argv: string[]) => {
  const parsed = parseCliArgs(argv);
  if (!('settings' in parsed)) throw new Error('no settings');
  return parsed.settings;
};

describe('day-two arguments (logs, dashboard)', () => {
  it('logs: --node repeatable, --since as a duration, --output', () => {
    expect(
      settings(['ray', 'logs', '--node', 'a', '--node', 'b', '--since', '10m', '--output', 'x.tar.gz']),
    ).toMatchObject({ command: 'logs', nodes: ['a', 'b'], sinceSec: 600, output: 'x.tar.gz' });
  });

  it('logs without --output is bad usage, naming what is missing', () => {
    expect(() => parseCliArgs(['ray', 'logs'])).toThrow(/ray logs needs --output PATH/);
  });

  it('durations: s, m, h, d and plain seconds; anything else is named', () => {
    expect([
      durationSec('90', '--since'),
      durationSec('30s', 'x'),
      durationSec('2h', 'x'),
      durationSec('1d', 'x'),
    ]).toEqual([90, 30, 7200, 86400]);
    for (const bad of ['', '0', '-5m', '10 minutes', '1w', '1.5h'])
      expect(() => durationSec(bad, '--since')).toThrow(UsageError);
    expect(() => durationSec('1w', '--since')).toThrow(
      '--since must be a duration such as 30s, 10m, 2h or 1d, got "1w"',
    );
  });

  it('dashboard: local ports default to Ray’s (8265, 10001) and must be ports', () => {
    expect(settings(['ray', 'dashboard'])).toMatchObject({ command: 'dashboard', port: 8265, clientPort: 10001 });
    expect(settings(['ray', 'dashboard', '--port', '9000', '--client-port', '9001'])).toMatchObject({
      port: 9000,
      clientPort: 9001,
    });
    expect(() => parseCliArgs(['ray', 'dashboard', '--port', '70000'])).toThrow(
      '--port must be a port from 1 to 65535',
    );
    expect(() => parseCliArgs(['ray', 'dashboard', '--client-port', 'x'])).toThrow(/--client-port/);
  });

  it('an unknown command lists the day-two ones too', () => {
    expect(() => parseCliArgs(['ray', 'dashbaord'])).toThrow(/did you mean "nokube ray dashboard"/);
    expect(() => parseCliArgs(['ray', 'xyzzy'])).toThrow(/expected one of .*logs, dashboard/);
  });
});
