import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class ChunkTooLongError extends Error {}

/**
 * Pass-through that hashes (SHA-256) and counts the bytes of one chunk as they stream to storage,
 * keeps the first `headBytes` for sniffing, and fails as soon as the chunk exceeds `maxLength`.
 */
export class ChunkMeter extends Transform {
  readonly #hash: Hash = createHash('sha256');
  readonly #maxLength: number;
  readonly #headBytes: number;
  #head: Buffer[] = [];
  #headLength = 0;
  length = 0;

  constructor(maxLength: number, headBytes = 0) {
    super();
    this.#maxLength = maxLength;
    this.#headBytes = headBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.length += chunk.length;
    if (this.length > this.#maxLength) {
      callback(new ChunkTooLongError(`chunk is longer than ${this.#maxLength} bytes`));
      return;
    }
    if (this.#headLength < this.#headBytes) {
      this.#head.push(chunk.subarray(0, this.#headBytes - this.#headLength));
      this.#headLength += Math.min(chunk.length, this.#headBytes - this.#headLength);
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  digest(): Buffer {
    return this.#hash.digest();
  }

  head(): Buffer {
    return Buffer.concat(this.#head);
  }
}
