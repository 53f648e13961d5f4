import { CloudError } from './errors.js';

export const SHUTTING_DOWN = (): CloudError => new CloudError('fatal', 'ShuttingDown', 'abandoned: fleet is shutting down');

/**
 * The signal every network call of this process carries. Aborting it ends the calls in flight and
 * refuses new ones at once; `lastWindow` then lets a few final calls through (giving up the leader
 * lease) for a bounded time.
 */
export class Shutdown {
  private controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(): void {
    this.controller.abort(SHUTTING_DOWN());
  }

  /** After an abort: new calls are allowed again, and aborted in their turn after `ms`. */
  lastWindow(ms: number): void {
    const controller = new AbortController();
    setTimeout(() => controller.abort(SHUTTING_DOWN()), ms).unref();
    this.controller = controller;
  }
}

/** This process's. */
export const processShutdown = new Shutdown();
