import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import {
  type AcceptedBatch,
  batchKey,
  bySessionAndSeq,
  type FlushPlan,
  planFlush,
  viewCandidates,
} from './flush-plan.ts';
import type { UniqueViewers } from './unique-viewers.ts';
import type { ViewRules } from './view-rules.ts';
import { claimBatches, lastViews, lockSessions, writePlan } from './view-store.ts';

/**
 * Batches per transaction (see flush()). Measured with 1-event batches at 1 500 req/s on PGlite
 * (bench/views.ts): p99 acknowledgement 105 ms with one transaction per flush, 32 ms in chunks of 500.
 */
const CHUNK = 500;

export interface ViewRecorderDeps {
  db: Db;
  uniques: UniqueViewers;
  /** Whether `uniques` writes inside the flush's transaction (the database) or after it (Redis). */
  uniquesInTransaction: boolean;
  rules: ViewRules;
  clock: Clock;
  log: Logger;
  /** Told (after the commit) which videos' view counts moved, so caches drop them. */
  onViewsCounted(videoIds: string[]): Promise<void>;
  /** VIEW_FLUSH_SECONDS × 1000: how long acknowledged beacons wait in memory, at most. */
  flushIntervalMs: number;
  /** Batches held at most; beyond, new ones are refused (503) until a flush succeeds. */
  maxPending: number;
}

/**
 * Acknowledged beacons wait in this process's memory and are folded into the database every
 * `flushIntervalMs`, in one transaction: the batches are recorded by (session, seq) in it, so a replay
 * or a retried flush never counts twice, and a crash loses at most the beacons of one interval (the
 * transaction in progress rolls back whole). A failed flush keeps its batches for the next one.
 */
export class ViewRecorder {
  readonly #deps: ViewRecorderDeps;
  #pending: AcceptedBatch[] = [];
  #pendingKeys = new Set<string>();
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /**
   * `flushedThrough`: every batch acknowledged before this instant (ms, the clock's) is in the database —
   * the start of the last flush that committed with nothing left behind.
   */
  readonly #stats = { flushes: 0, failures: 0, batches: 0, lastFlushMs: 0, maxFlushMs: 0, flushedThrough: 0 };

  constructor(deps: ViewRecorderDeps) {
    this.#deps = deps;
  }

  /** Holds a batch for the next flush; false when the backlog is full. A duplicate is accepted and dropped. */
  accept(batch: AcceptedBatch): boolean {
    const key = batchKey(batch);
    if (this.#pendingKeys.has(key)) return true;
    if (this.#pending.length >= this.#deps.maxPending) return false;
    this.#pending.push(batch);
    this.#pendingKeys.add(key);
    return true;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Flushes done and failed, batches written, the last and the slowest flush (what a crash may lose beyond one interval). */
  get stats() {
    return { ...this.#stats, pending: this.#pending.length };
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.flush().catch((error) =>
        this.#deps.log.warn({ err: error }, 'view flush failed: retrying next time'),
      );
    }, this.#deps.flushIntervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and flushes what is held. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush().catch((error) => this.#deps.log.warn({ err: error }, 'last view flush failed'));
  }

  /** Folds what is held now into the database (one flush at a time). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.length === 0) {
      this.#stats.flushedThrough = this.#deps.clock.nowMs(); // nothing held: everything acknowledged is written
      return;
    }
    // Sessions together, each in order: a chunk boundary never reorders a session.
    const batches = [...this.#pending].sort(bySessionAndSeq);
    this.#pending = [];
    this.#pendingKeys = new Set();
    const started = performance.now();
    const startedAt = this.#deps.clock.nowMs();
    let written = 0;
    this.#flushing = (async () => {
      // In transactions of at most CHUNK batches, yielding between them: the embedded database runs on
      // this event loop, and one huge transaction would hold every request meanwhile.
      for (; written < batches.length; written += CHUNK) {
        await this.#write(batches.slice(written, written + CHUNK));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })()
      .then(() => {
        const ms = performance.now() - started;
        Object.assign(this.#stats, { lastFlushMs: ms, maxFlushMs: Math.max(this.#stats.maxFlushMs, ms) });
        // Batches that failed earlier were requeued into this flush: nothing acknowledged before it began is left.
        this.#stats.flushedThrough = startedAt;
        this.#stats.flushes++;
        this.#stats.batches += batches.length;
      })
      .catch((error) => {
        this.#stats.failures++;
        this.#requeue(batches.slice(written));
        throw error;
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }

  async #write(batches: AcceptedBatch[]): Promise<void> {
    const plan = await this.#transaction(batches);
    if (!plan) return;
    if (!this.#deps.uniquesInTransaction) {
      await this.#deps.uniques
        .add(plan.uniques)
        .catch((error) => this.#deps.log.warn({ err: error }, 'unique viewers not recorded'));
    }
    if (plan.viewsByVideo.size > 0) await this.#deps.onViewsCounted([...plan.viewsByVideo.keys()]);
  }

  /** The flush's transaction; a deadlock with another node's flush is retried (nothing was written). */
  async #transaction(batches: AcceptedBatch[]): Promise<FlushPlan | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#deps.db.transaction().execute(async (tx) => {
          const fresh = await claimBatches(tx, batches);
          if (fresh.length === 0) return undefined;
          const stored = await lockSessions(tx, [...new Set(fresh.map((batch) => batch.sessionId))]);
          const last = await lastViews(tx, viewCandidates(fresh, stored));
          const plan = planFlush(fresh, stored, last, this.#deps.rules);
          await writePlan(tx, plan, this.#deps.clock.nowMs());
          if (this.#deps.uniquesInTransaction) await this.#deps.uniques.add(plan.uniques, tx);
          return plan;
        });
      } catch (error) {
        if ((error as { code?: string }).code !== '40P01' || attempt >= 3) throw error;
      }
    }
  }

  #requeue(batches: AcceptedBatch[]): void {
    const kept = batches.filter((batch) => !this.#pendingKeys.has(batchKey(batch)));
    this.#pending = [...kept, ...this.#pending];
    for (const batch of kept) this.#pendingKeys.add(batchKey(batch));
  }
}
