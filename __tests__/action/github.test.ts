import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS_BOT, GitHubClient, GitHubError } from '../../src/action/github';
import { findStickyComment, upsertStickyComment } from '../../src/action/comment';
import { FakeGitHub } from './fake-github';

const repo = { owner: 'acme', repo: 'cluster' };
let github: FakeGitHub;
let client: GitHubClient;

beforeEach(async () => {
  github = await new FakeGitHub().start();
  client = new GitHubClient({ token: 'test-token-123', apiUrl: `${github.url}/`, retryUnitMs: 1 });
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

  it('follows no Link off the API origin, so the token never goes there', async () => {
    const elsewhere = await new FakeGitHub().start();
    try {
      for (let i = 0; i < 5; i += 1) github.addComment(3, `c${i}`);
      github.linkOrigin = elsewhere.url;
      const err = await client.listIssueComments(repo, 3).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitHubError);
      expect((err as Error).message).toContain(`refusing a link off the API's origin ${github.url}`);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.stop();
    }
  });

  it('decodes file contents and answers undefined for a missing file', async () => {
    github.contents.set('deploy/ray config.yaml@abc', 'nodes: []\n# ünïcode\n');
    expect(await client.getFileContent(repo, 'deploy/ray config.yaml', 'abc')).toBe('nodes: []\n# ünïcode\n');
    expect(decodeURIComponent(github.requests[0].path)).toBe('/repos/acme/cluster/contents/deploy/ray config.yaml');
    expect(github.requests[0].query.get('ref')).toBe('abc');
    expect(await client.getFileContent(repo, 'missing.yaml', 'abc')).toBeUndefined();
  });

  it('retries server errors a bounded number of times', async () => {
    github.failFirst = 2;
    github.prFiles.set(1, [{ filename: 'a', status: 'added' }]);
    expect(await client.listPullRequestFiles(repo, 1)).toEqual([{ filename: 'a', status: 'added' }]);
    expect(github.requests).toHaveLength(3);

    github.requests.length = 0;
    github.failFirst = 10;
    await expect(client.listPullRequestFiles(repo, 1)).rejects.toMatchObject({ status: 502 });
    expect(github.requests).toHaveLength(4);
  });

  it('does not retry a refusal', async () => {
    github.refuseCommentWrites = 403;
    const err = await client.createComment(repo, 1, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubError);
    expect((err as GitHubError).status).toBe(403);
    expect((err as GitHubError).message).toContain('Resource not accessible by integration');
    expect(github.writes()).toHaveLength(1);
  });

  it("writes comments as the token's user, or as the Actions bot when /user is refused", async () => {
    expect(await client.commentAuthor()).toBe(ACTIONS_BOT);
    github.tokenLogin = 'deploy-user';
    const personal = new GitHubClient({ token: 'test-token-123', apiUrl: github.url, retryUnitMs: 1 });
    expect(await personal.commentAuthor()).toBe('deploy-user');
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
    expect((await findStickyComment(client, repo, 9, marker, ACTIONS_BOT))?.id).toBe(ours.id);
    expect(await findStickyComment(client, repo, 9, marker, 'someone-else')).toBeUndefined();
    await upsertStickyComment(client, repo, 9, marker, `${marker}\nnew`);
    expect(github.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(github.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      `/repos/acme/cluster/issues/comments/${ours.id}`,
    ]);
  });

  it('never edits a comment a person wrote, even one that starts with the marker line', async () => {
    const pasted = github.addComment(9, `${marker}\ncopied by a person`);
    const result = await upsertStickyComment(client, repo, 9, marker, `${marker}\nours`);
    expect(result.action).toBe('created');
    expect(result.commentId).not.toBe(pasted.id);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect(github.comments.get(9)!.find((c) => c.id === pasted.id)!.body).toBe(`${marker}\ncopied by a person`);
  });

  it("with a personal token: edits only that user's own copy, not the Actions bot's", async () => {
    github.tokenLogin = 'deploy-user';
    const bot = github.addComment(9, `${marker}\nbot's`, { login: 'github-actions[bot]', type: 'Bot' });
    const mine = github.addComment(9, `${marker}\nmine`, { login: 'deploy-user', type: 'User' });
    const result = await upsertStickyComment(client, repo, 9, marker, `${marker}\nnew`);
    expect(result).toEqual({ action: 'updated', commentId: mine.id });
    expect(github.comments.get(9)!.find((c) => c.id === bot.id)!.body).toBe(`${marker}\nbot's`);
  });

  it('writes nothing when it cannot tell who it is (GitHub failing on /user)', async () => {
    github.addComment(9, `${marker}\nsomeone's`);
    github.failFirst = 100;
    await expect(upsertStickyComment(client, repo, 9, marker, `${marker}\nnew`)).rejects.toMatchObject({
      status: 502,
    });
    expect(github.writes()).toHaveLength(0);
  });

  it('refuses a body without its marker', async () => {
    await expect(upsertStickyComment(client, repo, 9, marker, 'no marker')).rejects.toThrow(/marker/);
  });
});
