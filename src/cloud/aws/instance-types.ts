import { DescribeInstanceTypeOfferingsCommand, EC2Client } from '@aws-sdk/client-ec2';

export type TypeCheck = { readonly offered: ReadonlySet<string> } | { readonly unreachable: string };

/**
 * Which of `types` EC2 offers in `region` (DescribeInstanceTypeOfferings), within `timeoutMs`:
 * config check must answer promptly with or without a reachable cloud.
 */
export async function offeredInstanceTypes(region: string, types: readonly string[], timeoutMs: number): Promise<TypeCheck> {
  const client = new EC2Client({ region, maxAttempts: 1, requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs } });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const offered = new Set<string>();
    let token: string | undefined;
    do {
      const out = await client.send(
        new DescribeInstanceTypeOfferingsCommand({
          LocationType: 'region',
          Filters: [{ Name: 'instance-type', Values: [...types] }],
          ...(token ? { NextToken: token } : {}),
        }),
        { abortSignal: abort.signal },
      );
      for (const o of out.InstanceTypeOfferings ?? []) if (o.InstanceType) offered.add(o.InstanceType);
      token = out.NextToken;
    } while (token);
    return { offered };
  } catch (e) {
    const error = e as Error;
    return {
      unreachable: abort.signal.aborted ? `no answer within ${timeoutMs / 1000}s` : `${error.name}: ${error.message.split('\n')[0]}`,
    };
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}
