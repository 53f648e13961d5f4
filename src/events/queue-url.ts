// SQS queue URLs: which are acceptable as `events.queue`, and which region one names.

// https://sqs.<region>.amazonaws.com/<account>/<name> (and .com.cn), and the legacy
// https://<region>.queue.amazonaws.com/... form.
const AWS_QUEUE_HOST =
  /^(?:sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?|([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\.amazonaws\.com(?:\.cn)?|queue\.amazonaws\.com)$/;
const QUEUE_PATH = /^\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/**
 * Why `value` is not a usable queue URL (a phrase; the caller names the value), or undefined when it is. AWS hosts must carry
 * /<12-digit account>/<queue name>; any other http(s) URL is taken as a custom endpoint
 * (a VPC endpoint, a local SQS double) and only needs a path naming the queue.
 */
export function queueUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL (expected https://sqs.<region>.amazonaws.com/<account>/<queue>)';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'not an http(s) URL';
  if (url.search !== '' || url.hash !== '') return 'a queue URL has no query or fragment';
  if (AWS_QUEUE_HOST.test(url.hostname)) {
    if (url.protocol !== 'https:') return 'SQS is reached over https';
    if (!QUEUE_PATH.test(url.pathname)) return 'expected /<12-digit account>/<queue name> after the host';
    return undefined;
  }
  if (url.pathname.split('/').filter(Boolean).length === 0) return 'no queue named in the path';
  return undefined;
}

/** The region an AWS queue URL names; undefined for custom endpoints (the SDK's region chain decides). */
export function queueUrlRegion(value: string): string | undefined {
  let host: string;
  try {
    host = new URL(value).hostname;
  } catch {
    return undefined;
  }
  const match = AWS_QUEUE_HOST.exec(host);
  if (!match) return undefined;
  return match[1] ?? match[2] ?? 'us-east-1';
}
