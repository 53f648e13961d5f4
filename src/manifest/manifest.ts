import { InputError } from '../domain/errors.js';
import type { Image } from '../domain/types.js';
import { jsonSyntaxProblem } from './json-syntax.js';

export interface ManifestOptions {
  /** tag holding the pool in the Mozilla form */
  readonly poolTag: string;
  /** tag holding the creation time (epoch seconds) in the Mozilla form */
  readonly createdTag: string;
}

export const DEFAULT_MANIFEST_OPTIONS: ManifestOptions = { poolTag: 'moz-type', createdTag: 'moz-created' };

const AMI_ID = /^ami-[0-9a-zA-Z]{1,32}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:$|[T ])/;
/** Epoch seconds: digits only, so "", "-5" or "0x10" (which Number() accepts) are refused. */
const EPOCH_SECONDS = /^\s*\d+(?:\.\d+)?\s*$/;

/**
 * Parse an AMI manifest in either accepted form, detected from its shape:
 * native `{"images": [...]}`, or Mozilla's `amis.json` keyed by AMI id.
 * Any malformed image of ours rejects the whole manifest (a half-read manifest could hide the
 * newest image and make older ones look current); a manifest with no usable image is rejected too.
 */
export function parseManifest(text: string, options: ManifestOptions = DEFAULT_MANIFEST_OPTIONS): Image[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`manifest: not JSON (${jsonSyntaxProblem(e)})`);
  }
  if (!isObject(doc)) throw new InputError('manifest: expected a JSON object');
  const images = Array.isArray(doc.images) ? parseNative(doc.images) : parseMozilla(doc, options);
  if (images.length === 0) throw new InputError('manifest: lists no usable image');
  const seen = new Set<string>();
  for (const image of images) {
    const key = `${image.id}/${image.region}`;
    if (seen.has(key)) throw new InputError(`manifest: ${image.id} in ${image.region} is listed twice`);
    seen.add(key);
  }
  return images;
}

function parseNative(entries: unknown[]): Image[] {
  return entries.map((entry, n) => {
    const where = `manifest: images[${n}]`;
    if (!isObject(entry)) throw new InputError(`${where}: expected an object`);
    const id = requireString(entry.id, `${where}.id`);
    // Date.parse alone takes almost anything ("1" is 2001): insist on an ISO 8601 date first.
    const created = typeof entry.created === 'string' && ISO_DATE.test(entry.created) ? Date.parse(entry.created) : Number.NaN;
    if (!Number.isFinite(created))
      throw new InputError(`${where}.created: expected an ISO 8601 time (got ${JSON.stringify(entry.created)})`);
    return checkImage(
      {
        id,
        pool: requireString(entry.pool, `${where}.pool`),
        region: requireString(entry.region, `${where}.region`),
        created,
        name: optionalString(entry.name, `${where}.name`),
      },
      where,
    );
  });
}

function parseMozilla(doc: Record<string, unknown>, options: ManifestOptions): Image[] {
  const images: Image[] = [];
  for (const [key, entry] of Object.entries(doc)) {
    const where = `manifest: ${JSON.stringify(key)}`;
    if (!isObject(entry)) throw new InputError(`${where}: expected an object (or use the native {"images": [...]} form)`);
    if (entry.state !== 'available') continue;
    const tags = readTags(entry.tags, where);
    const pool = tags[options.poolTag];
    if (pool === undefined || pool === '') continue; // not a pool image
    const id = requireString(entry.id ?? key, `${where}.id`);
    const createdTag = tags[options.createdTag];
    const createdSeconds = createdTag !== undefined && EPOCH_SECONDS.test(createdTag) ? Number(createdTag) : Number.NaN;
    if (!Number.isFinite(createdSeconds)) {
      throw new InputError(`${where}: tag ${options.createdTag} must be epoch seconds (got ${JSON.stringify(tags[options.createdTag])})`);
    }
    images.push(
      checkImage(
        {
          id,
          pool,
          region: requireString(entry.region, `${where}.region`),
          created: createdSeconds * 1000,
          name: optionalString(entry.name, `${where}.name`),
        },
        where,
      ),
    );
  }
  return images;
}

function readTags(tags: unknown, where: string): Record<string, string> {
  if (tags === undefined || tags === null) return {};
  if (Array.isArray(tags)) {
    const out: [string, string][] = [];
    for (const t of tags) {
      if (isObject(t) && typeof t.Key === 'string')
        out.push([t.Key, typeof t.Value === 'string' ? t.Value : t.Value === undefined || t.Value === null ? '' : JSON.stringify(t.Value)]);
      else throw new InputError(`${where}.tags: expected {"Key", "Value"} entries`);
    }
    return Object.fromEntries(out);
  }
  if (!isObject(tags)) throw new InputError(`${where}.tags: expected an object`);
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
}

function checkImage(image: Image, where: string): Image {
  if (!AMI_ID.test(image.id)) throw new InputError(`${where}.id: ${JSON.stringify(image.id)} is not an AMI id`);
  if (!REGION.test(image.region)) throw new InputError(`${where}.region: ${JSON.stringify(image.region)} is not a region`);
  return image;
}

function requireString(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new InputError(`${where}: expected a non-empty string`);
  return v;
}

function optionalString(v: unknown, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InputError(`${where}: expected a string`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
