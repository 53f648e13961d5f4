import type { Finding } from './types.js';

export interface SentLaunch {
  readonly clientToken: string;
  /** hash of every parameter of the request (the simulated EC2's) */
  readonly params: string;
  readonly name: string;
}

/**
 * An unconfirmed launch is re-sent only with exactly the parameters it was first sent with.
 * `earlier` holds the first parameters of every token sent before these calls.
 */
export function checkResends(calls: readonly SentLaunch[], earlier: ReadonlyMap<string, string>): Finding[] {
  const first = new Map(earlier);
  const findings: Finding[] = [];
  for (const c of calls) {
    const params = first.get(c.clientToken);
    if (params === undefined) first.set(c.clientToken, c.params);
    else if (params !== c.params) {
      findings.push({
        invariant: 'resend-same-parameters',
        detail: `${c.name}: token ${c.clientToken.slice(0, 14)}… re-sent with other parameters (${params.slice(0, 6)} → ${c.params.slice(0, 6)})`,
      });
    }
  }
  return findings;
}
