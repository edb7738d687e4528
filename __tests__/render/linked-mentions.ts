// What GitHub turns into a notification or a link in rendered markdown, for tests of escaped text.

/**
 * The @mentions and #references GitHub would link in rendered markdown: it decodes entities first
 * (`&#64;octocat` is `@octocat` to it) and skips code and pre elements.
 */
export function linkedMentions(markdown: string): string[] {
  const text = markdown
    .replace(/<(pre|code)>[\s\S]*?<\/\1>/g, ' ')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&commat;/g, '@')
    .replace(/&num;/g, '#');
  return [...text.matchAll(/(?:^|[^\w`])([@#][A-Za-z0-9][\w/-]*)/g)].map((m) => m[1]);
}
