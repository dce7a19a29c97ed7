/**
 * Tells every process of a deployment that something changed, so each can drop what it cached about
 * it. Topics and ids are the publishers' own words (`video`, a video id); the platform names neither.
 */
export interface ChangeBus {
  /**
   * Announces that `ids` of `topic` changed (after the change committed): one announcement, however many
   * ids. This process's listeners have run when the promise settles, so the caller's next read sees the
   * change; other processes hear it moments later (Redis pub/sub) or not at all without Redis (their
   * caches then expire by TTL).
   */
  publish(topic: string, ids: string | readonly string[]): Promise<void>;
  /** Calls `listener` for every change of `topic`, from any process; returns the unsubscribe. */
  subscribe(topic: string, listener: ChangeListener): () => void;
  /**
   * A word that changes whenever `topic` changes anywhere (this process included): put it in cache
   * keys so that a change retires every entry keyed under the old word at once.
   */
  generation(topic: string): string;
  close(): Promise<void>;
}

export type ChangeListener = (id: string) => void | Promise<void>;

/** The listeners of one process, by topic; a failing listener does not stop the others. */
export class Listeners {
  readonly #byTopic = new Map<string, Set<ChangeListener>>();
  readonly #onError: (error: unknown, topic: string) => void;

  constructor(onError: (error: unknown, topic: string) => void) {
    this.#onError = onError;
  }

  add(topic: string, listener: ChangeListener): () => void {
    let set = this.#byTopic.get(topic);
    if (!set) {
      set = new Set();
      this.#byTopic.set(topic, set);
    }
    const listeners = set;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  async notify(topic: string, ids: readonly string[]): Promise<void> {
    const listeners = [...(this.#byTopic.get(topic) ?? [])];
    await Promise.all(
      listeners.flatMap((listener) =>
        ids.map(async (id) => {
          try {
            await listener(id);
          } catch (error) {
            this.#onError(error, topic);
          }
        }),
      ),
    );
  }
}

/** One process: changes are counted and heard here only (the zero-setup mode, and tests). */
export class LocalChangeBus implements ChangeBus {
  readonly #listeners: Listeners;
  readonly #counts = new Map<string, number>();

  constructor(onListenerError: (error: unknown, topic: string) => void = () => {}) {
    this.#listeners = new Listeners(onListenerError);
  }

  async publish(topic: string, ids: string | readonly string[]): Promise<void> {
    this.#counts.set(topic, (this.#counts.get(topic) ?? 0) + 1);
    await this.#listeners.notify(topic, typeof ids === 'string' ? [ids] : ids);
  }

  subscribe(topic: string, listener: ChangeListener): () => void {
    return this.#listeners.add(topic, listener);
  }

  generation(topic: string): string {
    return String(this.#counts.get(topic) ?? 0);
  }

  async close(): Promise<void> {}
}
