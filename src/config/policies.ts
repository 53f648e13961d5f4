import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../domain/errors.js';
import type { PoolPolicy } from '../domain/policy.js';
import { parsePolicy } from './policy-schema.js';

/**
 * Load every pool policy: one `*.json` file per pool directly in `dir`. Sub-directories (such as
 * `iam/`, which holds the service's own IAM policy) are never read.
 */
export function loadPolicies(dir: string): PoolPolicy[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    throw new InputError(`policies ${dir}: directory not found`);
  }
  const policies: PoolPolicy[] = [];
  const sources = new Map<string, string>();
  const templates = new Map<string, string>();
  for (const entry of entries) {
    const path = join(dir, entry);
    if (!entry.endsWith('.json')) continue;
    let text: string;
    try {
      if (!statSync(path).isFile()) continue;
      text = readFileSync(path, 'utf8');
    } catch (e) {
      // e.g. a dangling symlink or an unreadable file: a clear input error, not a crash
      throw new InputError(`${path}: cannot read (${(e as Error).message})`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${path}: not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
    }
    const policy = parsePolicy(doc, path);
    const earlier = sources.get(policy.pool);
    if (earlier) throw new InputError(`${path}: pool ${policy.pool} is already defined in ${earlier}`);
    sources.set(policy.pool, path);
    // Names are unique per pool; two pools drawing from one template would hand out the same names.
    const sharing = templates.get(policy.names);
    if (sharing) throw new InputError(`${path}.names: ${JSON.stringify(policy.names)} is already the name template of pool ${sharing}`);
    templates.set(policy.names, policy.pool);
    policies.push(policy);
  }
  if (policies.length === 0) throw new InputError(`policies ${dir}: no pool policy (*.json) found`);
  return policies;
}
