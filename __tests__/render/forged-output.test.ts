// Text from the config and from nodes cannot forge output (issue 11.11): no headings, links, images
// or @mentions in the comment and the summary, no control characters on the terminal.
import { describe, expect, it } from 'vitest';
import { terminalReporter } from '../../src/cli/reporter';
import { renderPlanComment } from '../../src/render/comment';
import { escapeControls, logLines } from '../../src/render/safe-text';
import { SecretMask } from '../../src/render/secret-mask';
import { renderSummary } from '../../src/render/summary';
import { nodeReport, planItem, result } from './fixtures';
import { linkedMentions } from './linked-mentions';

const FORGED =
  '\n# Approved by security\n[click here](https://evil.example/x) ![x](https://evil.example/i.png) @octo-org/admins www.evil.example x @octocat (fixes #1)';

function hostile() {
  return result({
    command: 'plan',
    nodes: [nodeReport(`w1${FORGED}`, 'worker', '10.0.0.2', { state: 'failed', error: `boom${FORGED}` })],
    plan: [planItem(`w1${FORGED}`, 'start', { reason: `new${FORGED}` })],
    errors: [{ node: `w1${FORGED}`, message: `ray start failed${FORGED}`, hint: `retry${FORGED}` }],
    warnings: [`# Heading from a node${FORGED}`],
  });
}

/** What GitHub would turn into structure: a heading line, a link or image, a mention, an autolink. */
function forgedStructure(rendered: string): string[] {
  // a <pre> block is raw HTML to GitHub (no markdown, autolinks or mentions in it) once escaped
  const markdown = rendered.replace(/<pre>[^<]*<\/pre>/g, '<pre></pre>');
  const found: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*(-\s*)?#+\s*Approved|^\s*(-\s*)?#+\s*Heading/.test(line)) found.push(`heading: ${line}`);
  }
  if (/\]\(/.test(markdown)) found.push('link or image');
  for (const m of linkedMentions(markdown)) found.push(`mention or reference: ${m}`);
  if (/https:\/\/evil/.test(markdown) || /www\.evil/.test(markdown)) found.push('autolink');
  return found;
}

describe('markdown from config and node text', () => {
  it('the plan comment has no heading, link, image, mention or autolink from it', () => {
    const body = renderPlanComment(hostile(), {
      configPath: 'ray-config.yaml',
      sha: 'abcdef0',
      runUrl: 'https://github.com/o/r/actions/runs/7',
    });
    expect(forgedStructure(body)).toEqual([]);
    expect(body).toContain('<a href="https://github.com/o/r/actions/runs/7">workflow run</a>'); // our own link stays
  });

  it('the job summary neither', () => {
    const md = renderSummary({ ...hostile(), command: 'start' }, { runUrl: 'https://github.com/o/r/actions/runs/7' });
    expect(forgedStructure(md)).toEqual([]);
  });

  it("nor a job's status, Ray's message about it and the end of its log in the summary", () => {
    const md = renderSummary(
      result({
        command: 'job',
        job: {
          job_id: `raysubmit_1${FORGED}`,
          status: `FAILED${FORGED} | forged cell`,
          message: `Job failed: x @octocat [click](https://evil.example/x)${FORGED}`,
          start_time: null,
          end_time: null,
          entrypoint: `python x.py${FORGED}`,
          log_tail: `Traceback${FORGED}`,
        },
      }),
      {},
    );
    expect(forgedStructure(md)).toEqual([]);
    const row = md.split('\n').find((l) => l.startsWith('| <code>raysubmit_1'))!;
    expect(row.split(/(?<!\\)\|/).length).toBe(5); // the status cannot add a column
  });

  it('linkedMentions finds what GitHub links: a mention spelt as an entity too, none in code', () => {
    expect(linkedMentions('x &#64;octocat and @octo-org/admins, not a@b or <code>@x</code>')).toEqual([
      '@octocat',
      '@octo-org/admins',
    ]);
    expect(linkedMentions('fixes #1, not x#2')).toEqual(['#1']);
    expect(linkedMentions('x @\u200boctocat #\u200b1')).toEqual([]);
  });
});

describe('terminal and workflow log', () => {
  const nasty = 'ok\x1b[2J\x1b]0;owned\x07\rfake line\x9b31m';

  it('control characters are shown, not obeyed', () => {
    expect(escapeControls(nasty)).toBe('ok\\x1b[2J\\x1b]0;owned\\x07\\x0dfake line\\x9b31m');
    const lines: string[] = [];
    const r = terminalReporter((l) => lines.push(l), new SecretMask(), false);
    r.node('w1', nasty);
    r.warn(nasty);
    // eslint-disable-next-line no-control-regex
    expect(lines.join('')).not.toMatch(/[\x1b\x07\r\x9b]/);
  });

  it('every line echoed to the workflow log starts with the prefix, so none is a workflow command', () => {
    const out = logLines('w1: ', 'a\n::stop-commands::t\r\n  ::add-mask::x\r::error::y');
    expect(out.split('\n')).toEqual(['w1: a', 'w1: ::stop-commands::t', 'w1:   ::add-mask::x', 'w1: ::error::y']);
    expect(logLines('', 'fine\n ::warning::no').split('\n')).toEqual(['fine', '|  ::warning::no']);
  });
});
