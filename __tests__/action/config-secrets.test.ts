import { describe, expect, it } from 'vitest';
import { literalPasswords } from '../../src/action/config-secrets';

describe('literalPasswords', () => {
  it('finds block, quoted and flow-style passwords, not references or comments', () => {
    const text = [
      'nodes:',
      '  - users:',
      '      - userid: a',
      '        password: plain,with}chars # a comment',
      '      - userid: b',
      '        password: "dq \\"x\\" # not a comment"',
      "      - {userid: c, password: 'it''s', sshkey: x}",
      '      - userid: d',
      '        password: ${RAY_PASSWORD}',
      '      # password: commented-out',
      '      - password: first-in-list',
      '    storage: {type: local, path: /x} # no password: here',
    ].join('\n');
    expect(literalPasswords(text)).toEqual(['plain,with}chars', 'dq "x" # not a comment', "it's", 'first-in-list']);
  });
});
