// The sticky plan comment: one per config path, found again by the hidden marker on its first line
// and updated in place, so a pull request never collects a second copy.
import type { GitHubClient, IssueComment, RepoRef } from './github';

export interface StickyResult {
  action: 'created' | 'updated' | 'unchanged';
  commentId: number;
}

/**
 * The comment this Action posted before for `marker`, or undefined. Every page is read: on a busy
 * pull request the comment may be far down the list. When an author is known, only theirs count;
 * among several matches a bot's is preferred (a person may have quoted the marker).
 */
export async function findStickyComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  marker: string,
  author?: string,
): Promise<IssueComment | undefined> {
  const comments = await client.listIssueComments(repo, issueNumber);
  const matches = comments.filter((c) => firstLine(c.body) === marker && (!author || c.user?.login === author));
  return matches.find((c) => c.user?.type === 'Bot') ?? matches[0];
}

export async function upsertStickyComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  marker: string,
  body: string,
  author?: string,
): Promise<StickyResult> {
  if (firstLine(body) !== marker) throw new Error('the comment body must start with its marker line');
  const existing = await findStickyComment(client, repo, issueNumber, marker, author);
  if (!existing) {
    const created = await client.createComment(repo, issueNumber, body);
    return { action: 'created', commentId: created.id };
  }
  if (existing.body === body) return { action: 'unchanged', commentId: existing.id };
  await client.updateComment(repo, existing.id, body);
  return { action: 'updated', commentId: existing.id };
}

function firstLine(body: string | undefined): string {
  return (body ?? '').split(/\r?\n/, 1)[0].trim();
}
