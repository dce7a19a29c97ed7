import { createHash, type Hash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';

/** The body was longer or shorter than the chunk must be. */
export class ChunkLengthError extends Error {
  readonly length: number;
  constructor(length: number, expected: number) {
    super(`chunk is ${length} bytes, expected ${expected}`);
    this.length = length;
  }
}

/** No byte arrived for the idle timeout. */
export class ChunkIdleError extends Error {
  readonly seconds: number;
  constructor(seconds: number) {
    super(`chunk made no progress for ${seconds} s`);
    this.seconds = seconds;
  }
}

/** The client closed the connection before the body ended. */
export class ChunkAbortedError extends Error {}

/** The request's claim on the chunk lapsed: it must stop writing. */
export class ChunkClaimLostError extends Error {}

export interface ChunkMeterOptions {
  /** Exact byte length the chunk must have. */
  length: number;
  /** Bytes kept from the start, for sniffing the container. */
  headBytes?: number;
  /** A body that sends nothing for this long is dropped. 0 disables. */
  idleTimeoutMs?: number;
  /** Checked before each piece is passed on: false stops the write. */
  mayContinue?: () => boolean;
}

/**
 * Pass-through that hashes (SHA-256) and counts the bytes of one chunk as they stream to storage, keeps
 * the first bytes for sniffing, and fails (with a typed error kept in `failure`) as soon as the chunk
 * is too long, ends short, stalls, is aborted by the client, or may no longer be written.
 */
export class ChunkMeter extends Transform {
  readonly #hash: Hash = createHash('sha256');
  readonly #options: ChunkMeterOptions;
  #head: Buffer[] = [];
  #headLength = 0;
  #idle: NodeJS.Timeout | undefined;
  length = 0;
  failure: Error | undefined;

  constructor(options: ChunkMeterOptions) {
    super();
    this.#options = options;
  }

  /** Feeds a request body through the meter; body failures and stalls end the meter with a reason. */
  consume(body: Readable): this {
    // The reader (the store) sees every failure through its stream and `failure` keeps the first one;
    // an 'error' emitted after the reader let go must not become an uncaught exception.
    this.on('error', () => {});
    const fail = (error: Error) => this.#fail(error);
    body.once('error', (error) => fail(isAbort(error) ? new ChunkAbortedError(error.message) : error));
    body.once('close', () => {
      if (!(body as { complete?: boolean }).complete && !body.readableEnded) {
        fail(new ChunkAbortedError('the client closed the connection'));
      }
    });
    const idleMs = this.#options.idleTimeoutMs ?? 0;
    if (idleMs > 0) {
      const arm = () => {
        clearTimeout(this.#idle);
        this.#idle = setTimeout(() => {
          fail(new ChunkIdleError(Math.round(idleMs / 1000)));
          body.destroy(); // stop reading from a client that stopped sending: the connection is dropped
        }, idleMs);
      };
      arm();
      body.on('data', arm);
      this.once('close', () => clearTimeout(this.#idle));
    }
    body.pipe(this);
    return this;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.length += chunk.length;
    if (this.length > this.#options.length) {
      callback(this.#remember(new ChunkLengthError(this.length, this.#options.length)));
      return;
    }
    if (this.#options.mayContinue && !this.#options.mayContinue()) {
      callback(this.#remember(new ChunkClaimLostError('the claim on this chunk lapsed')));
      return;
    }
    const headBytes = this.#options.headBytes ?? 0;
    if (this.#headLength < headBytes) {
      this.#head.push(chunk.subarray(0, headBytes - this.#headLength));
      this.#headLength += Math.min(chunk.length, headBytes - this.#headLength);
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    clearTimeout(this.#idle);
    if (this.length !== this.#options.length) {
      callback(this.#remember(new ChunkLengthError(this.length, this.#options.length)));
      return;
    }
    callback();
  }

  digest(): Buffer {
    return this.#hash.digest();
  }

  head(): Buffer {
    return Buffer.concat(this.#head);
  }

  #remember(error: Error): Error {
    this.failure ??= error;
    return error;
  }

  #fail(error: Error): void {
    clearTimeout(this.#idle);
    if (this.writableFinished && this.failure === undefined) return; // the body had already ended well
    this.destroy(this.#remember(error));
  }
}

function isAbort(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || error.message === 'aborted';
}
