// The few GitHub REST calls the Action makes, over Node's fetch: token auth, bounded retries with
// backoff on server errors and rate limits, and pagination by Link headers.

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
  /** Retries after the first attempt. */
  retries?: number;
  /** First backoff in ms; doubles each retry. */
  backoffMs?: number;
  /** The longest a Retry-After is honoured, in ms. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const PER_PAGE = 100;
/** A runaway Link chain must not loop forever. */
const MAX_PAGES = 100;

export class GitHubClient {
  private readonly apiUrl: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: GitHubClientOptions) {
    this.apiUrl = (options.apiUrl || 'https://api.github.com').replace(/\/+$/, '');
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async listPullRequestFiles(repo: RepoRef, pullNumber: number): Promise<PullRequestFile[]> {
    return this.paginate<PullRequestFile>(`/repos/${repoPath(repo)}/pulls/${pullNumber}/files`);
  }

  /** A file's text at a ref, or undefined when it does not exist there. */
  async getFileContent(repo: RepoRef, path: string, ref: string): Promise<string | undefined> {
    const url = `/repos/${repoPath(repo)}/contents/${path.split('/').map(encodeURIComponent).join('/')}?ref=${encodeURIComponent(ref)}`;
    const response = await this.request('GET', url, undefined, [404]);
    if (response.status === 404) return undefined;
    const file = (await response.json()) as { type?: string; encoding?: string; content?: string };
    if (Array.isArray(file) || (file.type && file.type !== 'file')) {
      throw new GitHubError(422, 'GET', url, `${path} is not a file at ${ref}`);
    }
    if (file.encoding === 'base64' && typeof file.content === 'string') {
      return Buffer.from(file.content, 'base64').toString('utf8');
    }
    // Files over 1 MB come without content: ask for the raw bytes instead.
    const rawResponse = await this.request('GET', url, undefined, [404], 'application/vnd.github.raw');
    return rawResponse.status === 404 ? undefined : rawResponse.text();
  }

  async listIssueComments(repo: RepoRef, issueNumber: number): Promise<IssueComment[]> {
    return this.paginate<IssueComment>(`/repos/${repoPath(repo)}/issues/${issueNumber}/comments`);
  }

  async createComment(repo: RepoRef, issueNumber: number, body: string): Promise<IssueComment> {
    const response = await this.request('POST', `/repos/${repoPath(repo)}/issues/${issueNumber}/comments`, { body });
    return (await response.json()) as IssueComment;
  }

  async updateComment(repo: RepoRef, commentId: number, body: string): Promise<IssueComment> {
    const response = await this.request('PATCH', `/repos/${repoPath(repo)}/issues/comments/${commentId}`, { body });
    return (await response.json()) as IssueComment;
  }

  private async paginate<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = `${path}${path.includes('?') ? '&' : '?'}per_page=${PER_PAGE}`;
    for (let page = 0; next && page < MAX_PAGES; page += 1) {
      const response = await this.request('GET', next);
      items.push(...((await response.json()) as T[]));
      next = nextLink(response.headers.get('link'));
    }
    return items;
  }

  /** One call, retried on 5xx, 429, secondary rate limits and network errors; `accept` lists statuses that are answers. */
  private async request(
    method: string,
    pathOrUrl: string,
    body?: unknown,
    accept: number[] = [],
    mediaType = 'application/vnd.github+json',
  ): Promise<Response> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.apiUrl}${pathOrUrl}`;
    const shown = url.replace(this.apiUrl, '').replace(/\?.*$/, '');
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            accept: mediaType,
            authorization: `Bearer ${this.options.token}`,
            'x-github-api-version': '2022-11-28',
            'user-agent': 'nokube-ray-deploy',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
      } catch (err) {
        if (attempt >= this.retries)
          throw new GitHubError(0, method, shown, `network error: ${(err as Error).message}`);
        await this.sleep(this.backoffMs * 2 ** attempt);
        continue;
      }
      if (response.ok || accept.includes(response.status)) return response;
      const text = await response.text().catch(() => '');
      const message = apiMessage(text);
      const wait = retryDelay(response, message);
      if (wait !== undefined && attempt < this.retries) {
        await this.sleep(Math.min(this.maxWaitMs, Math.max(wait, this.backoffMs * 2 ** attempt)));
        continue;
      }
      throw new GitHubError(response.status, method, shown, message);
    }
  }
}

function repoPath(repo: RepoRef): string {
  return `${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}`;
}

/** The `rel="next"` URL of a Link header. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = part.match(/<([^>]+)>\s*;\s*rel="?next"?/);
    if (m) return m[1];
  }
  return undefined;
}

function apiMessage(text: string): string {
  try {
    return String((JSON.parse(text) as { message?: unknown }).message ?? '').slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

/** How long to wait before retrying, or undefined when the failure is final. */
function retryDelay(response: Response, message: string): number | undefined {
  const retryAfter = Number(response.headers.get('retry-after'));
  const after = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0;
  if (response.status >= 500 || response.status === 429) return after;
  if (response.status === 403) {
    // Primary limit: wait until the reset; secondary limit: the message says so.
    if (response.headers.get('x-ratelimit-remaining') === '0') {
      const reset = Number(response.headers.get('x-ratelimit-reset')) * 1000 - Date.now();
      return Math.max(after, Number.isFinite(reset) ? reset : 0);
    }
    if (/secondary rate limit|abuse/i.test(message) || after) return after;
  }
  return undefined;
}
