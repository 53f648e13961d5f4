import type { Cloud, ObjectStore } from './port.js';
import { type GuardOptions, GuardedCompute } from './guarded.js';
import { DEFAULT_RETRY, withRetry } from './retry.js';

/** A cloud whose every call is rate limited per region, retried with backoff, classified, and fenced. */
export interface GuardedCloud extends Cloud {
  compute(region: string): GuardedCompute;
}

export function guardCloud(raw: Cloud, options: GuardOptions): GuardedCloud {
  const computes = new Map<string, GuardedCompute>();
  const retry = <T>(call: (signal?: AbortSignal) => Promise<T>) => {
    const signal = raw.deadlines?.objects();
    return withRetry(call, {
      clock: options.clock,
      random: options.random,
      ...DEFAULT_RETRY,
      ...options.retry,
      ...(signal ? { signal } : {}),
    });
  };
  const callOptions = (signal?: AbortSignal) => (signal ? { signal } : {});
  const objects: ObjectStore = {
    get: (bucket, key, ifNoneMatch, read) =>
      retry((signal) => raw.objects.get(bucket, key, ifNoneMatch, { ...read, ...callOptions(signal) })),
    put: (bucket, key, body, condition) => retry((signal) => raw.objects.put(bucket, key, body, condition, callOptions(signal))),
  };
  const computeOptions: GuardOptions = raw.deadlines ? { ...options, wholeCall: raw.deadlines.compute } : options;
  return {
    compute(region) {
      let compute = computes.get(region);
      if (!compute) {
        compute = new GuardedCompute(raw.compute(region), computeOptions);
        computes.set(region, compute);
      }
      return compute;
    },
    objects,
    // One attempt: when the Price List API is unreachable the policies' own prices apply at once.
    priceList: raw.priceList,
    // Not retried here: the inbox's next poll is the retry, and SQS calls are not EC2's to count or limit.
    ...(raw.events ? { events: (url: string) => (raw.events as NonNullable<Cloud['events']>).call(raw, url) } : {}),
  };
}
