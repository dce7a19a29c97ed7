/**
 * Turns ffmpeg's progress into a stored percent and ETA, written at most once a second.
 * The encode is 0–90 % of the work; thumbnails and the MP4 download the rest.
 */
export class ProgressTracker {
  readonly #duration: number;
  readonly #save: (percent: number, etaSeconds: number | null) => Promise<void>;
  #lastSaved = 0;
  #percent = 0;
  #eta: number | null = null;
  #pending: Promise<void> = Promise.resolve();

  constructor(durationSeconds: number, save: (percent: number, etaSeconds: number | null) => Promise<void>) {
    this.#duration = durationSeconds;
    this.#save = save;
  }

  encoding(outTimeSeconds: number | null, speed: number | null): void {
    if (outTimeSeconds === null || !(this.#duration > 0)) return;
    const done = Math.min(1, Math.max(0, outTimeSeconds / this.#duration));
    const remainingMedia = Math.max(0, this.#duration - outTimeSeconds);
    // The tail (thumbnails, MP4 remux) takes roughly a tenth of the encode.
    const eta = speed && speed > 0 ? Math.ceil((remainingMedia / speed) * 1.1 + 2) : null;
    this.#set(done * 90, eta);
  }

  phase(percent: number): void {
    this.#set(percent, this.#eta === null ? null : Math.max(1, Math.round(this.#eta / 3)));
  }

  async flush(): Promise<void> {
    await this.#pending;
  }

  #set(percent: number, eta: number | null): void {
    this.#percent = Math.max(this.#percent, Math.round(percent * 10) / 10);
    this.#eta = eta;
    const now = Date.now();
    if (now - this.#lastSaved < 1000) return;
    this.#lastSaved = now;
    const percentNow = this.#percent;
    this.#pending = this.#pending.then(() => this.#save(percentNow, eta)).catch(() => {});
  }
}
