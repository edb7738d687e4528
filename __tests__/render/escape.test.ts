import { describe, expect, it } from 'vitest';
import { escapeCell, escapeCode, escapeComment, escapeHtml, stripAnsi } from '../../src/render/escape';
import { mapStrings } from '../../src/render/safe-text';

describe('escaping', () => {
  it('HTML-escapes markup and quotes', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
    );
  });

  it('escapes the column separator and line breaks in a table cell', () => {
    expect(escapeCell('a|b\nc')).toBe('a\\|b<br>c');
  });

  it('clips very long cells', () => {
    const cell = escapeCell('x'.repeat(2000), 100);
    expect(cell.length).toBe(100);
    expect(cell.endsWith('…')).toBe(true);
  });

  it('inline code keeps < and | inert', () => {
    expect(escapeCode('a<b>|c')).toBe('<code>a&lt;b&gt;&#124;c</code>');
  });

  it('keeps a marker value inside its HTML comment', () => {
    const v = escapeComment('evil --> <img src=x>');
    expect(v).not.toContain('--');
    expect(v).not.toContain('>');
  });

  it('strips colour codes', () => {
    expect(stripAnsi('\x1b[32mok\x1b[0m')).toBe('ok');
  });
});

describe('mapStrings', () => {
  it('maps every string deeply without changing the input, and copies only what changed', () => {
    const input = { a: 'x secret y', list: ['secret', 'plain', 3], same: { b: 'plain', n: [1, 2] } };
    const out = mapStrings(input, (s) => s.replace('secret', '***'));
    expect(out).toEqual({ a: 'x *** y', list: ['***', 'plain', 3], same: { b: 'plain', n: [1, 2] } });
    expect(input.a).toBe('x secret y');
    expect(input.list[0]).toBe('secret');
    expect(out.same).toBe(input.same);
    expect(mapStrings(input.same, (s) => s)).toBe(input.same);
  });
});
