// `nokube ray init`'s flags: the hosts one way or the other, --workers beside exec's own --workers.
import { describe, expect, it } from 'vitest';
import { USAGE, commandHelp, parseCliArgs } from '../../src/cli/args';
import { bashCompletion } from '../../src/cli/completion';

const settings = (argv: string[]) => {
  const p = parseCliArgs(argv);
  if (!('settings' in p)) throw new Error('no settings');
  return p.settings;
};

describe('nokube ray init arguments', () => {
  it('reads the hosts and the key choices', () => {
    const s = settings(['ray', 'init', '--head', 'a', '--workers', 'b,c', '--workers', 'd', '--accept-new', '--force']);
    expect(s).toMatchObject({ command: 'init', head: 'a', workerHosts: ['b,c', 'd'], acceptNew: true, force: true });
    expect(settings(['ray', 'init', '--hosts-file', 'h.txt', '--pin-host-keys'])).toMatchObject({
      hostsFile: 'h.txt',
      pinHostKeys: true,
      workerHosts: [],
    });
  });

  it("leaves exec's --workers a switch", () => {
    expect(settings(['ray', 'exec', '--workers', '--', 'hostname'])).toMatchObject({ workers: true, workerHosts: [] });
  });

  it.each([
    [['ray', 'init'], 'init needs the hosts: --head HOST [--workers HOST,HOST,...] or --hosts-file FILE'],
    [['ray', 'init', '--workers', 'b'], 'init needs the head too'],
    [['ray', 'init', '--head', 'a', '--hosts-file', 'f'], 'either as --head/--workers or as --hosts-file'],
    [['ray', 'init', '--head', 'a', '--pin-host-keys', '--known-hosts-out', 'k'], 'drop --known-hosts-out'],
    [['ray', 'init', '--head', 'a', '--insecure-skip-host-key-check'], 'use --accept-new instead'],
    [['ray', 'start', '--force'], '--force is only for init'],
    [['ray', 'start', '--head', 'a'], '--head is only for init'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  it('is in the usage, its help and the completion', () => {
    expect(USAGE).toContain('nokube ray init --head [USER@]HOST[:PORT]');
    const help = commandHelp('init');
    for (const flag of [
      '--head',
      '--workers HOST,HOST,...',
      '--hosts-file',
      '--accept-new',
      '--known-hosts-out',
      '--pin-host-keys',
      '--force',
      '--identity',
      '--user',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).not.toContain('--insecure-skip-host-key-check');
    expect(bashCompletion()).toMatch(/init\) flags="[^"]*--accept-new/);
  });
});
