import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubClient, GitHubError, nextLink } from '../../src/action/github';
import { findStickyComment, upsertStickyComment } from '../../src/action/comment';
import { FakeGitHub } from './fake-github';

const repo = { owner: 'acme', repo: 'cluster' };
let github: FakeGitHub;
let client: GitHubClient;
const waits: number[] = [];

beforeEach(async () => {
  github = await new FakeGitHub().start();
  waits.length = 0;
  client = new GitHubClient({
    token: 'test-token-123',
    apiUrl: `${github.url}/`,
    sleep: async (ms) => void waits.push(ms),
  });
});
afterEach(() => github.stop());

describe('GitHubClient', () => {
  it('follows Link headers through every page', async () => {
    for (let i = 0; i < 5; i += 1) github.addComment(3, `c${i}`);
    const comments = await client.listIssueComments(repo, 3);
    expect(comments.map((c) => c.body)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    const gets = github.requests.filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(3);
    expect(gets[0].query.get('per_page')).toBe('100');
    expect(gets[0].headers['x-github-api-version']).toBe('2022-11-28');
  });

  it('decodes file contents and answers undefined for a missing file', async () => {
    github.contents.set('deploy/ray config.yaml@abc', 'nodes: []\n# ünïcode\n');
    expect(await client.getFileContent(repo, 'deploy/ray config.yaml', 'abc')).toBe('nodes: []\n# ünïcode\n');
    expect(github.requests[0].path).toBe('/repos/acme/cluster/contents/deploy/ray%20config.yaml');
    expect(await client.getFileContent(repo, 'missing.yaml', 'abc')).toBeUndefined();
  });

  it('retries server errors with backoff, a bounded number of times', async () => {
    github.failFirst = 2;
    github.prFiles.set(1, [{ filename: 'a', status: 'added' }]);
    expect(await client.listPullRequestFiles(repo, 1)).toEqual([{ filename: 'a', status: 'added' }]);
    expect(waits).toEqual([1000, 2000]);

    github.failFirst = 10;
    await expect(client.listPullRequestFiles(repo, 1)).rejects.toMatchObject({ status: 502 });
    expect(waits).toHaveLength(5);
  });

  it('does not retry a refusal', async () => {
    github.refuseCommentWrites = 403;
    const err = await client.createComment(repo, 1, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubError);
    expect((err as GitHubError).status).toBe(403);
    expect((err as GitHubError).message).toContain('Resource not accessible by integration');
    expect(waits).toEqual([]);
  });

  it('reads the next link among others', () => {
    expect(
      nextLink('<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next", <https://a/x?page=9>; rel="last"'),
    ).toBe('https://a/x?page=3');
    expect(nextLink('<https://a/x?page=1>; rel="first"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});

describe('sticky comment', () => {
  const marker = '<!-- nokube-ray-deploy:plan:ray-config.yaml -->';

  it('creates it once, then updates the same comment in place', async () => {
    const first = await upsertStickyComment(client, repo, 9, marker, `${marker}\nv1`);
    expect(first.action).toBe('created');
    const second = await upsertStickyComment(client, repo, 9, marker, `${marker}\nv2`);
    expect(second).toEqual({ action: 'updated', commentId: first.commentId });
    expect(github.comments.get(9)).toHaveLength(1);
    expect(github.comments.get(9)![0].body).toBe(`${marker}\nv2`);
    const third = await upsertStickyComment(client, repo, 9, marker, `${marker}\nv2`);
    expect(third.action).toBe('unchanged');
    expect(github.writes()).toHaveLength(2);
  });

  it('finds the marker on page 3, and ignores quotes and other config paths', async () => {
    github.addComment(9, `> ${marker}\nquoted by a person`);
    github.addComment(9, '<!-- nokube-ray-deploy:plan:other.yaml -->\nanother cluster', {
      login: 'github-actions[bot]',
      type: 'Bot',
    });
    for (let i = 0; i < 3; i += 1) github.addComment(9, `chatter ${i}`);
    const ours = github.addComment(9, `${marker}\nold`, { login: 'github-actions[bot]', type: 'Bot' });
    expect((await findStickyComment(client, repo, 9, marker))?.id).toBe(ours.id);
    expect(await findStickyComment(client, repo, 9, marker, 'someone-else')).toBeUndefined();
    await upsertStickyComment(client, repo, 9, marker, `${marker}\nnew`);
    expect(github.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(github.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      `/repos/acme/cluster/issues/comments/${ours.id}`,
    ]);
  });

  it('prefers the bot copy over a person who pasted the marker line', async () => {
    github.addComment(9, `${marker}\ncopied`);
    const bot = github.addComment(9, `${marker}\nours`, { login: 'github-actions[bot]', type: 'Bot' });
    expect((await findStickyComment(client, repo, 9, marker))?.id).toBe(bot.id);
  });

  it('refuses a body without its marker', async () => {
    await expect(upsertStickyComment(client, repo, 9, marker, 'no marker')).rejects.toThrow(/marker/);
  });
});
