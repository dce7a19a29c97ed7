import { errors } from '../errors.ts';

/**
 * Counts requests in flight per client address (in this process); past the limit a request is
 * refused with 429 RATE_LIMITED and Retry-After.
 */
export class ConcurrencyGate {
  readonly #limit: number;
  readonly #retryAfterSeconds: number;
  readonly #counts = new Map<string, number>();

  constructor(limit: number, retryAfterSeconds: number) {
    this.#limit = limit;
    this.#retryAfterSeconds = retryAfterSeconds;
  }

  /** Takes a slot for `address` (or throws); the returned function frees it, once. */
  enter(address: string): () => void {
    const count = this.#counts.get(address) ?? 0;
    if (count >= this.#limit) throw errors.rateLimited(this.#retryAfterSeconds);
    this.#counts.set(address, count + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.#counts.get(address) ?? 1) - 1;
      if (left > 0) this.#counts.set(address, left);
      else this.#counts.delete(address);
    };
  }
}
