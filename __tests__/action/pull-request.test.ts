import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubClient } from '../../src/action/github';
import { baseConfigText, configChange, readPullRequestContext } from '../../src/action/pull-request';
import { FakeGitHub } from './fake-github';

function eventFile(payload: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nokube-event-')), 'event.json');
  writeFileSync(file, JSON.stringify(payload));
  return file;
}

const payload = (headRepo: { full_name: string; fork?: boolean } | null) => ({
  number: 12,
  pull_request: {
    number: 12,
    base: { sha: 'b'.repeat(40), repo: { full_name: 'acme/cluster' } },
    head: { sha: 'h'.repeat(40), repo: headRepo },
  },
});

describe('readPullRequestContext', () => {
  it('reads number, base and head SHAs of a same-repository pull request', () => {
    const ctx = readPullRequestContext({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(payload({ full_name: 'acme/cluster' })),
      GITHUB_REPOSITORY: 'acme/cluster',
    });
    expect(ctx).toEqual({
      repo: { owner: 'acme', repo: 'cluster' },
      number: 12,
      baseSha: 'b'.repeat(40),
      headSha: 'h'.repeat(40),
      fork: false,
    });
  });

  it('marks a fork, also for pull_request_target and a deleted head repository', () => {
    const fork = readPullRequestContext({
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: eventFile(payload({ full_name: 'mallory/cluster', fork: true })),
    });
    expect(fork?.fork).toBe(true);
    const gone = readPullRequestContext({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(payload(null)),
    });
    expect(gone?.fork).toBe(true);
  });

  it('is undefined for other events', () => {
    expect(readPullRequestContext({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventFile({}) })).toBeUndefined();
    expect(readPullRequestContext({ GITHUB_EVENT_NAME: 'pull_request' })).toBeUndefined();
  });
});

describe('configChange and baseConfigText', () => {
  let github: FakeGitHub;
  let client: GitHubClient;
  const pr = { repo: { owner: 'acme', repo: 'cluster' }, number: 12, baseSha: 'base', headSha: 'head', fork: false };
  beforeEach(async () => {
    github = await new FakeGitHub().start();
    client = new GitHubClient({ token: 'test-token-123', apiUrl: github.url });
  });
  afterEach(() => github.stop());

  it('sees the config among many changed files (paginated)', async () => {
    github.prFiles.set(12, [
      ...Array.from({ length: 7 }, (_, i) => ({ filename: `f${i}`, status: 'modified' })),
      { filename: 'ray-config.yaml', status: 'modified' },
    ]);
    expect(await configChange(client, pr, 'ray-config.yaml')).toEqual({ touched: true, basePath: 'ray-config.yaml' });
    expect(await configChange(client, pr, 'other.yaml')).toEqual({ touched: false, basePath: 'other.yaml' });
  });

  it('follows a rename both ways', async () => {
    github.prFiles.set(12, [{ filename: 'ray-config.yaml', status: 'renamed', previous_filename: 'old.yaml' }]);
    expect(await configChange(client, pr, 'ray-config.yaml')).toEqual({ touched: true, basePath: 'old.yaml' });
    expect(await configChange(client, pr, 'old.yaml')).toEqual({ touched: true, basePath: 'old.yaml' });
  });

  it('reads the base config at the base SHA; 404 is no previous config', async () => {
    github.contents.set('ray-config.yaml@base', 'nodes: []\n');
    expect(await baseConfigText(client, pr, 'ray-config.yaml')).toBe('nodes: []\n');
    expect(await baseConfigText(client, { ...pr, baseSha: 'other' }, 'ray-config.yaml')).toBeUndefined();
  });
});
