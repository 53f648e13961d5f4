// What the soak remembers between cycles to judge them from the cloud's side: every version of the
// inputs it published, every version of drained.json as stored, which input copy each process was
// last handed, what EC2 answered to each client token, and each process's cycles.

import { classify } from '../../src/cloud/errors.js';
import type { Image } from '../../src/domain/types.js';
import type { SimCall } from '../../src/fake-cloud/ec2.js';
import type { DrainedVersion } from './invariants/drained-launch.js';
import type { CycleRecord, TokenHistory } from './invariants/journal.js';
import type { Delivery, SentCall } from './process.js';
import { DESIRED_KEY, MANIFEST_KEY, STATE_PREFIX } from './scenario.js';

const LAST_GOOD_DESIRED = `${STATE_PREFIX}last-good-desired.json`;
const LAST_GOOD_MANIFEST = `${STATE_PREFIX}last-good-manifest.json`;
export const DRAINED_KEY = `${STATE_PREFIX}drained.json`;

/** The reads whose answers tell which input copy a process holds. */
export function isInputRead(_bucket: string, key: string): boolean {
  return key === DESIRED_KEY || key === MANIFEST_KEY || key === LAST_GOOD_DESIRED || key === LAST_GOOD_MANIFEST;
}

/** A manifest as published: valid (with its images) or deliberately not. */
export interface ManifestVersion {
  readonly valid: boolean;
  readonly images: readonly Image[];
}

/** A desired document as published: counts per pool, and the busy workers' names of the pools in queue form. */
export interface DesiredVersion {
  readonly counts: Readonly<Record<string, number>>;
  readonly busy: Readonly<Record<string, readonly string[]>>;
}

/** The copies of an input a cycle could have acted on. */
export interface InputCopies {
  readonly desired: readonly Readonly<Record<string, number>>[];
  /** the busy lists of those copies, in the same order */
  readonly busy: readonly Readonly<Record<string, readonly string[]>>[];
  readonly manifests: readonly ManifestVersion[];
}

/** Results that say nothing about the launch itself: it may be re-sent. */
const LOST = new Set(['RequestLost', 'ResponseLost']);

export class Ledger {
  private readonly desiredVersions = new Map<string, DesiredVersion>();
  private readonly manifestVersions = new Map<string, ManifestVersion>();
  readonly drained: DrainedVersion[] = [];
  /** AMIs the launch guard drained at some point */
  readonly guardDrained = new Set<string>();
  /** per process: the body of the input it was last handed intact */
  private readonly inUse = new Map<string, { desired?: string; manifest?: string }>();
  readonly tokens = new Map<string, TokenHistory>();
  readonly firstParams = new Map<string, string>();
  readonly cycles: CycleRecord[] = [];
  private readonly senders = new Map<string, string>();

  publishedDesired(body: string, counts: Readonly<Record<string, number>>, busy: Readonly<Record<string, readonly string[]>> = {}): void {
    this.desiredVersions.set(body, { counts, busy });
  }

  publishedManifest(body: string, version: ManifestVersion): void {
    this.manifestVersions.set(body, version);
  }

  /** drained.json as stored at time t (told by the simulated S3 on every write). */
  storedDrained(t: number, body: string): void {
    const marks = (JSON.parse(body) as { amis?: Record<string, { by?: string }> }).amis ?? {};
    this.drained.push({ t, amis: Object.keys(marks).sort() });
    for (const [ami, mark] of Object.entries(marks)) if (mark.by === 'guard') this.guardDrained.add(ami);
  }

  /**
   * The input copies a cycle of these processes could have used: each one's copy from before the
   * cycle, every intact copy handed out during it, and the last good copies kept in the state store.
   */
  copies(processes: readonly string[], during: readonly Delivery[], stored: readonly (string | undefined)[]): InputCopies {
    const desired = new Set<string>();
    const manifests = new Set<string>();
    for (const p of processes) {
      const held = this.inUse.get(p);
      if (held?.desired) desired.add(held.desired);
      if (held?.manifest) manifests.add(held.manifest);
    }
    const offer = (key: string, body: string) => {
      if (key === DESIRED_KEY && this.desiredVersions.has(body)) desired.add(body);
      if (key === MANIFEST_KEY && this.manifestVersions.get(body)?.valid) manifests.add(body);
    };
    for (const d of during) offer(d.key, d.body);
    for (const body of stored) {
      const text = lastGoodText(body);
      if (text === undefined) continue;
      offer(DESIRED_KEY, text);
      offer(MANIFEST_KEY, text);
    }
    const versions = [...desired].map((b) => this.desiredVersions.get(b) as DesiredVersion);
    return {
      desired: versions.map((v) => v.counts),
      busy: versions.map((v) => v.busy),
      manifests: [...manifests].map((b) => this.manifestVersions.get(b) as ManifestVersion),
    };
  }

  /** Remember the copy each process was last handed intact (a garbled or invalid one leaves its copy as it was). */
  handedOut(deliveries: readonly Delivery[]): void {
    for (const d of deliveries) {
      const held = this.inUse.get(d.process) ?? {};
      if (d.key === DESIRED_KEY && this.desiredVersions.has(d.body)) held.desired = d.body;
      if (d.key === MANIFEST_KEY && this.manifestVersions.get(d.body)?.valid) held.manifest = d.body;
      this.inUse.set(d.process, held);
    }
  }

  forget(process: string): void {
    this.inUse.delete(process);
  }

  /** Note who sent each launch, so that EC2's answers can be traced to a process. */
  sentBy(sent: readonly SentCall[]): void {
    for (const s of sent) if (s.action === 'RunInstances' && s.clientToken) this.senders.set(`${s.clientToken}@${s.t}`, s.process);
  }

  /** Keep the parameters each client token was first sent with. */
  rememberParams(runCalls: readonly SimCall[]): void {
    for (const c of runCalls) {
      const token = String(c.detail?.clientToken);
      if (!this.firstParams.has(token)) this.firstParams.set(token, String(c.detail?.params));
    }
  }

  /** Fold EC2's answers to RunInstances into each token's history. */
  answered(calls: readonly SimCall[]): void {
    for (const c of calls) {
      if (c.action !== 'RunInstances' || typeof c.detail?.clientToken !== 'string') continue;
      const token = c.detail.clientToken;
      const before = this.tokens.get(token) ?? { succeeded: false };
      if (c.result === 'ok' || c.detail.instanceId !== undefined) {
        this.tokens.set(token, { succeeded: true });
      } else if (!before.succeeded && isFinalRefusal(c.result)) {
        const process = this.senders.get(`${token}@${String(c.detail.sentAt)}`) ?? 'unknown';
        this.tokens.set(token, { succeeded: false, lastRefusal: { t: c.t, code: c.result, process } });
      }
    }
  }
}

/** A refusal EC2 would repeat: neither throttling nor a server error nor a lost message. */
export function isFinalRefusal(result: string): boolean {
  if (result === 'ok' || LOST.has(result)) return false;
  return !classify({ name: result }).retryable;
}

function lastGoodText(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    const doc = JSON.parse(body) as { text?: unknown };
    return typeof doc.text === 'string' ? doc.text : undefined;
  } catch {
    return undefined;
  }
}
