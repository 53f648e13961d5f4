import { type Finding, type InstanceFact, isLiveState } from './types.js';

/** Names (tag Name) are unique among the fleet's live instances. */
export function checkUniqueNames(instances: readonly InstanceFact[], fleet: string): Finding[] {
  const byName = new Map<string, string[]>();
  for (const i of instances) {
    if (i.managedBy !== fleet || !isLiveState(i.state) || i.name === undefined) continue;
    byName.set(i.name, [...(byName.get(i.name) ?? []), i.id]);
  }
  return [...byName]
    .filter(([, ids]) => ids.length > 1)
    .map(([name, ids]) => ({
      invariant: 'unique-names',
      key: name,
      detail: `${name} is held by ${ids.length} live instances: ${ids.join(', ')}`,
    }));
}
