import type { Finding } from './types.js';

/** A call that changes named resources. */
export interface TouchingCall {
  readonly action: string;
  readonly resources: readonly string[];
}

/** No call changes a resource (instance, image, snapshot) without the fleet's ownership tag. */
export function checkOwnership(calls: readonly TouchingCall[], ownerOf: (id: string) => string | undefined, fleet: string): Finding[] {
  return calls.flatMap((c) =>
    c.resources
      .filter((id) => ownerOf(id) !== fleet)
      .map((id) => ({
        invariant: 'ownership',
        detail: `${c.action} named ${id}, owned by ${ownerOf(id) ?? 'nobody (no fleet:managed-by tag)'}`,
      })),
  );
}
