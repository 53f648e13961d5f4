/**
 * Why a text is not JSON, without any of the text: the parser's own message quotes the start of
 * the document, which may be a token or a presigned URL's answer.
 */
export function jsonSyntaxProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/end of JSON input/.test(message)) return 'the text ends early';
  const position = /at position (\d+)/.exec(message)?.[1];
  return position === undefined ? 'a syntax error' : `a syntax error at byte ${position}`;
}
