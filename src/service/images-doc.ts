import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import { IMAGES_DOC, type ImagesDoc, imagesDoc } from '../shared/worker-docs.js';
import type { StateStore } from '../shared/state-store.js';

/**
 * Keeps `images.json` (the proved images per pool and region, for workers) equal to the journal's
 * established images: written when they change, read once per process to learn what is stored.
 */
export class ImagesPublisher {
  /** the body last known to be stored */
  private stored: string | undefined;

  constructor(
    private readonly state: StateStore,
    private readonly log: Logger,
  ) {}

  async publish(established: Readonly<Record<string, number>>): Promise<void> {
    const doc = imagesDoc(established);
    const body = JSON.stringify(doc);
    if (body === this.stored) return;
    try {
      const current = await this.state.read<ImagesDoc>(IMAGES_DOC);
      if (JSON.stringify(current?.doc) !== body) await this.state.write(IMAGES_DOC, doc, current?.etag);
      this.stored = body;
    } catch (e) {
      // Workers then judge from the last copy; the next cycle tries again.
      const error = classify(e);
      this.stored = undefined;
      this.log.warn({ doc: IMAGES_DOC, code: error.code, error: error.message }, 'proved images not published; next cycle tries again');
    }
  }
}
