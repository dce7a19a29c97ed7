import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type ChangeBus, type ChangeListener, Listeners } from './change-bus.ts';

export interface RedisChangeBusOptions {
  /** Commands: INCR, GET, PUBLISH. */
  redis: Redis;
  /** A connection of its own in subscriber mode (`redis.duplicate()`); the bus closes it. */
  subscriber: Redis;
  /** Keys and the channel live under it, so deployments (and test runs) can share a Redis. */
  prefix: string;
  /** Told once when Redis starts failing and once when it works again. */
  onHealth?: (healthy: boolean, error?: unknown) => void;
  onListenerError?: (error: unknown, topic: string) => void;
}

interface Message {
  origin: string;
  topic: string;
  ids: string[];
  count: number;
}

/**
 * Every process hears every change through Redis pub/sub. Each topic has a counter in Redis (INCR per
 * change): a process's generation word is the highest count it has heard, plus a local part that moves
 * when Redis could not be told or when the subscription was lost (messages may have been missed): in
 * both cases this process stops trusting the entries it keyed under the old word.
 */
export class RedisChangeBus implements ChangeBus {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #origin = randomBytes(8).toString('hex');
  readonly #listeners: Listeners;
  readonly #onHealth: (healthy: boolean, error?: unknown) => void;
  /** Highest count heard per topic; absent until read from Redis. */
  readonly #counts = new Map<string, number>();
  /** Every topic this process used, so a reconnection re-reads them all. */
  readonly #topics = new Set<string>();
  readonly #reading = new Set<string>();
  #localEpoch = 0;
  #healthy = true;
  #connectedBefore = false;

  constructor(options: RedisChangeBusOptions) {
    this.#redis = options.redis;
    this.#subscriber = options.subscriber;
    this.#prefix = options.prefix;
    this.#channel = `${options.prefix}channel`;
    this.#onHealth = options.onHealth ?? (() => {});
    this.#listeners = new Listeners(options.onListenerError ?? (() => {}));
    this.#subscriber.on('error', () => {}); // reported through the main connection and #onHealth
    this.#subscriber.on('message', (channel, text) => {
      if (channel === this.#channel) void this.#heard(text);
    });
    this.#subscriber.on('ready', () => this.#connected());
    this.#redis.on('ready', () => {
      for (const topic of this.#topics) this.#readCount(topic);
    });
  }

  /**
   * Subscribes to the channel (ioredis subscribes again by itself after a reconnection). Waits at most
   * `waitMs` for Redis to confirm: an unreachable Redis must not hold up a start.
   */
  async start(waitMs = 2000): Promise<void> {
    const subscribed = this.#subscriber.subscribe(this.#channel).then(
      () => true,
      (error) => this.#setHealthy(false, error),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([subscribed, timeout]);
    clearTimeout(timer);
  }

  async publish(topic: string, changed: string | readonly string[]): Promise<void> {
    const ids = typeof changed === 'string' ? [changed] : [...changed];
    this.#topics.add(topic);
    try {
      // An unreachable Redis is not waited for: the change is applied here and the caller answered.
      if (this.#redis.status !== 'ready') throw new Error(`Redis is ${this.#redis.status}`);
      const count = await this.#redis.incr(this.#key(topic));
      this.#raise(topic, count);
      const message: Message = { origin: this.#origin, topic, ids, count };
      await this.#redis.publish(this.#channel, JSON.stringify(message));
      this.#setHealthy(true);
    } catch (error) {
      // Other processes will not hear of it (their entries expire by TTL); this one stops using its own.
      this.#localEpoch++;
      this.#setHealthy(false, error);
    }
    await this.#listeners.notify(topic, ids);
  }

  subscribe(topic: string, listener: ChangeListener): () => void {
    this.#readCount(topic);
    return this.#listeners.add(topic, listener);
  }

  generation(topic: string): string {
    const count = this.#counts.get(topic);
    if (count === undefined) {
      this.#readCount(topic);
      return `boot-${this.#origin}.${this.#localEpoch}`; // until the count is known: keys of our own
    }
    return `${count}.${this.#localEpoch}`;
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect();
  }

  async #heard(text: string): Promise<void> {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (message.origin === this.#origin || typeof message.topic !== 'string') return;
    if (typeof message.count === 'number') this.#raise(message.topic, message.count);
    if (Array.isArray(message.ids)) await this.#listeners.notify(message.topic, message.ids.map(String));
  }

  /** After a reconnection, changes may have been missed: re-read the counts and retire local entries. */
  #connected(): void {
    if (this.#connectedBefore) this.#localEpoch++;
    this.#connectedBefore = true;
    for (const topic of this.#topics) this.#readCount(topic);
  }

  #readCount(topic: string): void {
    this.#topics.add(topic);
    if (this.#reading.has(topic) || this.#redis.status !== 'ready') return;
    this.#reading.add(topic);
    this.#redis
      .get(this.#key(topic))
      .then((value) => this.#raise(topic, Number(value ?? 0)))
      .catch((error) => this.#setHealthy(false, error))
      .finally(() => this.#reading.delete(topic));
  }

  #raise(topic: string, count: number): void {
    if (!Number.isSafeInteger(count)) return;
    this.#counts.set(topic, Math.max(this.#counts.get(topic) ?? 0, count));
  }

  #key(topic: string): string {
    return `${this.#prefix}count:${topic}`;
  }

  #setHealthy(healthy: boolean, error?: unknown): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#onHealth(healthy, error);
  }
}
