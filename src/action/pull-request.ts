// What a pull_request event tells the plan: which PR, its base and head, whether it comes from a
// fork (no secrets, read-only token: plan offline), and whether it changes the config file at all.
import { readFileSync } from 'node:fs';
import type { GitHubClient, RepoRef } from './github';

export interface PullRequestContext {
  repo: RepoRef;
  number: number;
  baseSha: string;
  headSha: string;
  /** The head repository differs from the base one (or was deleted). */
  fork: boolean;
}

const PR_EVENTS = ['pull_request', 'pull_request_target'];

/** The pull request of this run, or undefined for any other event. */
export function readPullRequestContext(env: Record<string, string | undefined>): PullRequestContext | undefined {
  if (!PR_EVENTS.includes(env.GITHUB_EVENT_NAME ?? '') || !env.GITHUB_EVENT_PATH) return undefined;
  const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
    number?: number;
    pull_request?: {
      number: number;
      base: { sha: string; repo: { full_name: string } };
      head: { sha: string; repo: { full_name: string; fork?: boolean } | null };
    };
  };
  const pr = event.pull_request;
  if (!pr) return undefined;
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? pr.base.repo.full_name).split('/');
  return {
    repo: { owner, repo },
    number: pr.number ?? event.number,
    baseSha: pr.base.sha,
    headSha: pr.head.sha,
    fork: !pr.head.repo || pr.head.repo.full_name !== pr.base.repo.full_name,
  };
}

export interface ConfigChange {
  /** The PR adds, changes, renames or removes the config file. */
  touched: boolean;
  /** Where the config was on the base branch (its old name when the PR renamed it). */
  basePath: string;
}

/** Whether the PR's changed files (every page) include the config, under its new or old name. */
export async function configChange(
  client: GitHubClient,
  pr: PullRequestContext,
  configPath: string,
): Promise<ConfigChange> {
  const files = await client.listPullRequestFiles(pr.repo, pr.number);
  const file = files.find((f) => f.filename === configPath || f.previous_filename === configPath);
  if (!file) return { touched: false, basePath: configPath };
  return {
    touched: true,
    basePath: file.filename === configPath && file.previous_filename ? file.previous_filename : configPath,
  };
}

/** The config as the base branch has it, or undefined when it does not exist there (every node is new). */
export async function baseConfigText(
  client: GitHubClient,
  pr: PullRequestContext,
  basePath: string,
): Promise<string | undefined> {
  return client.getFileContent(pr.repo, basePath, pr.baseSha);
}
