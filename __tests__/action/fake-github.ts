// A local stand-in for the six GitHub REST endpoints the Action calls (GitHub itself cannot be
// reached from tests): the token's user, pull request files, contents, issue comments (list, create,
// update). Lists are paginated with Link headers; every request is recorded; failures can be injected.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body?: unknown;
}

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: string };
}

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  /** Changed files per pull request number. */
  prFiles = new Map<number, { filename: string; status: string; previous_filename?: string }[]>();
  /** File contents by `path@ref`. */
  contents = new Map<string, string>();
  comments = new Map<number, FakeComment[]>();
  /** Items per page the server returns, whatever per_page asks for (small, to force pagination). */
  pageSize = 2;
  /** Status to answer POST/PATCH of comments with, instead of doing them (e.g. 403 for a fork). */
  refuseCommentWrites?: number;
  /** Answer this many requests with 502 first. */
  failFirst = 0;
  /**
   * The token's own login (a personal token): GET /user answers it and new comments are its. Unset,
   * the token is the workflow's GITHUB_TOKEN: /user is refused and comments are the Actions bot's.
   */
  tokenLogin?: string;
  /** Replaces every Link header's origin (a server pointing its pages elsewhere). */
  linkOrigin?: string;
  private nextId = 1000;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  addComment(issue: number, body: string, user = { login: 'someone', type: 'User' }): FakeComment {
    const c = { id: this.nextId++, body, user };
    this.comments.set(issue, [...(this.comments.get(issue) ?? []), c]);
    return c;
  }

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' || r.method === 'PATCH');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    this.requests.push(record);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (this.failFirst > 0) {
      this.failFirst -= 1;
      return send(502, { message: 'Bad Gateway' });
    }
    // GitHub takes both schemes; Octokit sends `token`
    if (!/^(bearer|token) test-token-123$/i.test(req.headers.authorization ?? ''))
      return send(401, { message: 'Bad credentials' });

    if (record.method === 'GET' && url.pathname === '/user') {
      if (!this.tokenLogin) return send(403, { message: 'Resource not accessible by integration' });
      return send(200, { login: this.tokenLogin, type: 'User' });
    }

    let m: RegExpMatchArray | null;
    if (record.method === 'GET' && (m = url.pathname.match(/^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/files$/))) {
      return this.page(url, this.prFiles.get(Number(m[1])) ?? [], send);
    }
    if (record.method === 'GET' && (m = url.pathname.match(/^\/repos\/[^/]+\/[^/]+\/contents\/(.+)$/))) {
      const key = `${decodeURIComponent(m[1])}@${url.searchParams.get('ref')}`;
      const content = this.contents.get(key);
      if (content === undefined) return send(404, { message: 'Not Found' });
      return send(200, {
        type: 'file',
        encoding: 'base64',
        content: Buffer.from(content)
          .toString('base64')
          .replace(/(.{60})/g, '$1\n'),
      });
    }
    if ((m = url.pathname.match(/^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/))) {
      const issue = Number(m[1]);
      if (record.method === 'GET') return this.page(url, this.comments.get(issue) ?? [], send);
      if (record.method === 'POST') {
        if (this.refuseCommentWrites)
          return send(this.refuseCommentWrites, { message: 'Resource not accessible by integration' });
        const c = this.addComment(
          issue,
          (record.body as { body: string }).body,
          this.tokenLogin ? { login: this.tokenLogin, type: 'User' } : { login: 'github-actions[bot]', type: 'Bot' },
        );
        return send(201, c);
      }
    }
    if (record.method === 'PATCH' && (m = url.pathname.match(/^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/))) {
      if (this.refuseCommentWrites)
        return send(this.refuseCommentWrites, { message: 'Resource not accessible by integration' });
      for (const list of this.comments.values()) {
        const c = list.find((x) => x.id === Number(m![1]));
        if (c) {
          c.body = (record.body as { body: string }).body;
          return send(200, c);
        }
      }
      return send(404, { message: 'Not Found' });
    }
    send(404, { message: `no fake for ${record.method} ${url.pathname}` });
  }

  private page(url: URL, items: unknown[], send: (s: number, b: unknown, h?: Record<string, string>) => void): void {
    const page = Number(url.searchParams.get('page') ?? '1');
    const last = Math.max(1, Math.ceil(items.length / this.pageSize));
    const headers: Record<string, string> = {};
    const link = (p: number, rel: string) => {
      const u = new URL(url);
      u.searchParams.set('page', String(p));
      if (this.linkOrigin) return `<${this.linkOrigin}${u.pathname}${u.search}>; rel="${rel}"`;
      return `<${u.toString()}>; rel="${rel}"`;
    };
    const links = [];
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
    if (links.length) headers.link = links.join(', ');
    send(200, items.slice((page - 1) * this.pageSize, page * this.pageSize), headers);
  }
}
