import type { VideoSummary } from './video-repository.ts';

/** What a listener receives on each tick: the video's current row, or `undefined` when no row has the id. */
export type VideoChangeListener = (row: VideoSummary | undefined) => void;

export interface VideoChangeFeedOptions {
  /** One query for many ids (VideoRepository.findSummaries); rows of unknown ids are simply absent. */
  load(ids: string[]): Promise<VideoSummary[]>;
  /** Time between polls (default 1 s: events are at most 1 a second, as the API promises). */
  intervalMs?: number;
  /** A failed poll is reported here and retried on the next tick; listeners are not called. */
  onError?(error: unknown): void;
}

/** Bounds the `in (…)` list of one query (PostgreSQL accepts at most 65 535 bind parameters). */
const MAX_IDS_PER_QUERY = 1000;

/**
 * Video rows pushed to every interested listener of this process from ONE poll of the database per
 * interval, whatever the number of listeners: 300 browsers watching 3 videos cost one query a second,
 * not 300. It polls the database, not process memory, so it sees changes made by a worker on any node.
 * The timer runs only while someone listens.
 */
export class VideoChangeFeed {
  readonly #load: VideoChangeFeedOptions['load'];
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Map<string, Set<VideoChangeListener>>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #closed = false;

  constructor(options: VideoChangeFeedOptions) {
    this.#load = options.load;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Calls `listener` with the video's row after each poll (the first one an interval from now). */
  subscribe(videoId: string, listener: VideoChangeListener): () => void {
    if (this.#closed) throw new Error('VideoChangeFeed is closed');
    let set = this.#listeners.get(videoId);
    if (!set) {
      set = new Set();
      this.#listeners.set(videoId, set);
    }
    // A wrapper per subscription, so subscribing the same function twice gives two independent ones.
    const entry: VideoChangeListener = (row) => listener(row);
    set.add(entry);
    this.#schedule();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const current = this.#listeners.get(videoId);
      current?.delete(entry);
      if (current?.size === 0) this.#listeners.delete(videoId);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /** How many subscriptions are open (all ids together). */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.#listeners.values()) count += set.size;
    return count;
  }

  /** Stops polling for good; open subscriptions get no more calls. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#stop();
  }

  #schedule(): void {
    // One timer at a time; while a poll is running, the poll reschedules itself when it finishes
    // (a slow database never gets overlapping polls).
    if (this.#timer || this.#polling || this.#closed || this.#listeners.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#poll();
    }, this.#intervalMs);
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #poll(): Promise<void> {
    const ids = [...this.#listeners.keys()];
    if (ids.length === 0) return;
    this.#polling = true;
    try {
      const rows = new Map<string, VideoSummary>();
      for (let start = 0; start < ids.length; start += MAX_IDS_PER_QUERY) {
        for (const row of await this.#load(ids.slice(start, start + MAX_IDS_PER_QUERY)))
          rows.set(row.id, row);
      }
      for (const id of ids) {
        const set = this.#listeners.get(id);
        if (!set) continue;
        // Over a copy, skipping whoever unsubscribed meanwhile: listeners unsubscribe from inside their
        // call (a stream that just ended).
        for (const listener of [...set]) {
          if (!set.has(listener) || this.#closed) continue;
          try {
            listener(rows.get(id));
          } catch (error) {
            this.#onError(error);
          }
        }
      }
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#polling = false;
      this.#schedule();
    }
  }
}
