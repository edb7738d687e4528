// The few GitHub REST calls the Action makes, through @actions/github's Octokit (proxy settings as on
// every other action: HTTPS_PROXY, NO_PROXY) with the retry and throttling plugins, behind one small
// class whose errors name the call.
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface PullRequestFile {
  filename: string;
  status: string;
  previous_filename?: string;
}

export interface IssueComment {
  id: number;
  body?: string;
  user?: { login: string; type?: string } | null;
  html_url?: string;
}

export class GitHubError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    message: string,
  ) {
    super(`GitHub API ${method} ${path}: HTTP ${status}${message ? ` (${message})` : ''}`);
    this.name = 'GitHubError';
  }
}

export interface GitHubClientOptions {
  token: string;
  /** GITHUB_API_URL; https://api.github.com by default. */
  apiUrl?: string;
  /** Retries after the first attempt, on server errors and rate limits. */
  retries?: number;
  /** The plugins' unit of waiting in ms (1000: Retry-After in seconds); tests make it small. */
  retryUnitMs?: number;
  /** The longest a rate limit is waited out, in seconds; longer ones fail the call. */
  maxWaitSec?: number;
  /** Where waits for rate limits are told (a workflow warning). */
  log?: (message: string) => void;
}

/** Who writes comments with the workflow's GITHUB_TOKEN (an installation token cannot read /user). */
export const ACTIONS_BOT = 'github-actions[bot]';

const PER_PAGE = 100;
/** A runaway Link chain must not loop forever. */
const MAX_PAGES = 100;

type Octokit = ReturnType<typeof getOctokit>;

export class GitHubClient {
  private readonly octokit: Octokit;
  private readonly origin: string;
  private author?: Promise<string>;

  constructor(options: GitHubClientOptions) {
    const apiUrl = (options.apiUrl || 'https://api.github.com').replace(/\/+$/, '');
    this.origin = new URL(apiUrl).origin;
    const retries = options.retries ?? 3;
    const maxWaitSec = options.maxWaitSec ?? 60;
    const log = options.log ?? (() => {});
    const unit = options.retryUnitMs ?? 1000;
    const onLimit =
      (kind: string) => (after: number, request: { method: string; url: string }, _o: unknown, count: number) => {
        if (count >= retries || after > maxWaitSec) return false;
        log(`GitHub ${kind} on ${request.method} ${request.url}: retrying in ${after}s`);
        return true;
      };
    this.octokit = getOctokit(
      options.token,
      {
        baseUrl: apiUrl,
        userAgent: 'nokube-ray-deploy',
        retry: { retries, retryAfterBaseValue: unit },
        throttle: {
          retryAfterBaseValue: unit,
          onRateLimit: onLimit('rate limit'),
          onSecondaryRateLimit: onLimit('secondary rate limit'),
        },
      },
      retry,
      throttling,
    );
    // The token goes only to the API itself: a Link (or any URL) pointing elsewhere is not followed.
    this.octokit.hook.before('request', (request) => {
      const url = new URL(request.url, `${apiUrl}/`);
      if (url.origin !== this.origin) {
        throw new GitHubError(0, request.method, url.origin, `refusing a link off the API's origin ${this.origin}`);
      }
      request.headers['x-github-api-version'] = '2022-11-28';
    });
  }

  async listPullRequestFiles(repo: RepoRef, pullNumber: number): Promise<PullRequestFile[]> {
    return this.call('GET', `/repos/${repo.owner}/${repo.repo}/pulls/${pullNumber}/files`, () =>
      this.octokit.paginate(
        this.octokit.rest.pulls.listFiles,
        { ...repo, pull_number: pullNumber, per_page: PER_PAGE },
        pageLimit<PullRequestFile>(),
      ),
    );
  }

  /** A file's text at a ref, or undefined when it does not exist there. */
  async getFileContent(repo: RepoRef, path: string, ref: string): Promise<string | undefined> {
    const shown = `/repos/${repo.owner}/${repo.repo}/contents/${path}`;
    const params = { ...repo, path, ref };
    try {
      const { data: file } = await this.call('GET', shown, () => this.octokit.rest.repos.getContent(params));
      if (Array.isArray(file) || file.type !== 'file') {
        throw new GitHubError(422, 'GET', shown, `${path} is not a file at ${ref}`);
      }
      if (file.encoding === 'base64' && typeof file.content === 'string' && file.content) {
        return Buffer.from(file.content, 'base64').toString('utf8');
      }
      // Files over 1 MB come without content: ask for the raw bytes instead.
      const raw = await this.call('GET', shown, () =>
        this.octokit.rest.repos.getContent({ ...params, mediaType: { format: 'raw' } }),
      );
      return String(raw.data);
    } catch (err) {
      if (err instanceof GitHubError && err.status === 404) return undefined;
      throw err;
    }
  }

  async listIssueComments(repo: RepoRef, issueNumber: number): Promise<IssueComment[]> {
    return this.call('GET', `/repos/${repo.owner}/${repo.repo}/issues/${issueNumber}/comments`, () =>
      this.octokit.paginate(
        this.octokit.rest.issues.listComments,
        { ...repo, issue_number: issueNumber, per_page: PER_PAGE },
        pageLimit<IssueComment>(),
      ),
    );
  }

  async createComment(repo: RepoRef, issueNumber: number, body: string): Promise<IssueComment> {
    const path = `/repos/${repo.owner}/${repo.repo}/issues/${issueNumber}/comments`;
    const { data } = await this.call('POST', path, () =>
      this.octokit.rest.issues.createComment({ ...repo, issue_number: issueNumber, body }),
    );
    return data;
  }

  async updateComment(repo: RepoRef, commentId: number, body: string): Promise<IssueComment> {
    const path = `/repos/${repo.owner}/${repo.repo}/issues/comments/${commentId}`;
    const { data } = await this.call('PATCH', path, () =>
      this.octokit.rest.issues.updateComment({ ...repo, comment_id: commentId, body }),
    );
    return data;
  }

  /**
   * The login this token writes comments as: its user (a personal or OAuth token), or the Actions
   * bot when GitHub refuses /user to it (the workflow's GITHUB_TOKEN is an installation token).
   * Any other failure is an error: guessing then could edit someone else's comment.
   */
  commentAuthor(): Promise<string> {
    this.author ??= this.call('GET', '/user', () => this.octokit.rest.users.getAuthenticated()).then(
      ({ data }) => data.login,
      (err: unknown) => {
        if (err instanceof GitHubError && (err.status === 403 || err.status === 404)) return ACTIONS_BOT;
        this.author = undefined;
        throw err;
      },
    );
    return this.author;
  }

  /** One call; Octokit's error becomes a GitHubError that names the call and GitHub's message. */
  private async call<T>(method: string, path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof GitHubError) throw err;
      const e = err as { status?: number; message?: string; response?: { data?: unknown } };
      const data = e.response?.data as { message?: unknown } | undefined;
      const message =
        typeof data?.message === 'string' ? data.message : typeof e.status === 'number' ? '' : (e.message ?? '');
      throw new GitHubError(typeof e.status === 'number' ? e.status : 0, method, path, message.slice(0, 200));
    }
  }
}

/** paginate's map function: every item of every page, up to MAX_PAGES pages. */
function pageLimit<T>(): (response: { data: unknown }, done: () => void) => T[] {
  let pages = 0;
  return (response, done) => {
    pages += 1;
    if (pages >= MAX_PAGES) done();
    return response.data as T[];
  };
}
