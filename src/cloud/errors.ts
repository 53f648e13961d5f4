// Every cloud error is classified here, once. The rest of fleet speaks only in these classes.

export type ErrorClass =
  /** slow down and retry */
  | 'throttled'
  /** the cloud is briefly unwell (5xx, network): retry */
  | 'transient'
  /** this offer has no capacity now: keep it out of placement for a while, try the next */
  | 'capacity'
  | 'not-found'
  | 'permission'
  /** a conditional write lost a race */
  | 'conflict'
  /** not sent (or abandoned): this replica no longer holds the leader lease */
  | 'fenced'
  /** the request itself is wrong; retrying will not help */
  | 'invalid'
  | 'fatal';

export class CloudError extends Error {
  override readonly name = 'CloudError';
  constructor(
    readonly errorClass: ErrorClass,
    readonly code: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.errorClass === 'throttled' || this.errorClass === 'transient';
  }
}

const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
]);

// Karpenter's list, plus the spot-specific refusals: each means "not here, not now".
const CAPACITY = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientCapacityOnHost',
  'MaxSpotInstanceCountExceeded',
  'SpotMaxPriceTooLow',
  'UnfulfillableCapacity',
  'InsufficientFreeAddressesInSubnet',
  'VcpuLimitExceeded',
  'InstanceLimitExceeded',
  'ReservationCapacityExceeded',
  'Unsupported',
]);

const TRANSIENT = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'RequestExpired',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const PERMISSION = new Set([
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'OptInRequired',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'CredentialsProviderError',
  'Blocked',
]);

const CONFLICT = new Set(['PreconditionFailed', 'ConditionalRequestConflict']);

// SQS answers a missing queue with QueueDoesNotExist (JSON protocol) or AWS.SimpleQueueService.NonExistentQueue.
const NOT_FOUND = /(\.NotFound|^NoSuchKey|^NoSuchBucket|^NotFound|^QueueDoesNotExist|\.NonExistentQueue)$/;

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  cause?: unknown;
}

/** Classify anything thrown by an SDK call, a fetch, or the simulator. */
export function classify(err: unknown): CloudError {
  return classifyAt(err, 0);
}

function classifyAt(err: unknown, depth: number): CloudError {
  if (err instanceof CloudError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as AwsLikeError;
  // Only strings are codes: anything may be thrown, even objects that cannot become strings.
  const errno = text(e.code);
  const code = text(e.Code) ?? (errno && !/^\d+$/.test(errno) ? errno : undefined) ?? text(e.name) ?? 'Unknown';
  const status = numberOrUndefined(e.$metadata?.httpStatusCode) ?? numberOrUndefined(e.$response?.statusCode);
  const message = firstLine(e.message) || code;
  const errorClass = classOf(code, status);
  // fetch (undici) wraps network failures: TypeError "fetch failed" with the real error (ECONNREFUSED,
  // UND_ERR_SOCKET, ...) as its cause. When the error itself says nothing, its cause decides.
  if (errorClass === 'fatal' && status === undefined && typeof e.cause === 'object' && e.cause !== null && depth < 3) {
    const inner = classifyAt(e.cause, depth + 1);
    if (inner.errorClass !== 'fatal') return new CloudError(inner.errorClass, inner.code, `${message}: ${inner.message}`, inner.httpStatus);
  }
  return new CloudError(errorClass, code, message, status);
}

function classOf(code: string, status: number | undefined): ErrorClass {
  if (THROTTLED.has(code) || status === 429) return 'throttled';
  if (CAPACITY.has(code)) return 'capacity';
  if (CONFLICT.has(code) || status === 412) return 'conflict';
  if (PERMISSION.has(code) || status === 403) return 'permission';
  if (NOT_FOUND.test(code) || status === 404) return 'not-found';
  if (TRANSIENT.has(code) || (status !== undefined && status >= 500)) return 'transient';
  if (status !== undefined && status >= 400) return 'invalid';
  if (/^Invalid|^Missing|Mismatch$|Malformed/.test(code)) return 'invalid';
  return 'fatal';
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function firstLine(s: unknown): string {
  // anything may be thrown, including objects whose message is not a string
  return (typeof s === 'string' ? s : '').split('\n')[0]?.trim() ?? '';
}
