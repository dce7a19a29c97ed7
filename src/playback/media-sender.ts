import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { DeliveryConfig } from '../config.ts';
import { errors } from '../errors.ts';
import type { Clock } from '../platform/clock.ts';
import {
  type BlobBody,
  BlobNotFoundError,
  type BlobStat,
  type BlobStore,
  type ByteRange,
} from '../platform/storage/blob-store.ts';
import { cacheControl } from './cache-policy.ts';
import type { MediaGrant } from './media-access.ts';
import { type ContentCoding, chooseEncoding, ifRangeAllows, noneMatchHits } from './negotiation.ts';
import { contentRange, parseRange, type RangeResult } from './range.ts';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Playlists and VTT are read whole; anything larger than this is not a playlist Reel wrote. */
const MAX_TEXT_BYTES = 16 * 1024 * 1024;
const MiB = 1024 * 1024;

interface TextFile {
  body: Buffer;
  /** Content hash: the strong ETag is `"<hash>"`, `"<hash>-gzip"` or `"<hash>-br"` by coding. */
  hash: string;
}

export interface MediaSenderDeps {
  store: BlobStore;
  delivery: Pick<DeliveryConfig, 'mode' | 'publicMediaBaseUrl' | 'signedUrlTtlSeconds'>;
  clock: Clock;
}

/**
 * Sends one granted media file: playlists and VTT from memory (strong content ETag, gzip/brotli,
 * 304), binary files sent from storage by byte range (206/416, never whole in memory, never
 * compressed; written to the socket by the store's openRange body), or, in redirect mode, a 302 to
 * the CDN or a URL the store presigns. HEAD of a binary file only
 * stats it; HEAD of a playlist reads the small text, to give the same ETag and Content-Length as GET.
 */
export class MediaSender {
  readonly #store: BlobStore;
  readonly #delivery: MediaSenderDeps['delivery'];
  readonly #clock: Clock;
  /** Texts of finished encodes: their content can no longer change (content-addressed paths). */
  readonly #finalTexts = new LRUCache<string, TextFile>({
    maxSize: 32 * MiB,
    sizeCalculation: (text) => text.body.length + 64,
  });
  /** Compressed texts by content hash and coding (live playlists included: same content, same bytes). */
  readonly #compressed = new LRUCache<string, Buffer>({
    maxSize: 32 * MiB,
    sizeCalculation: (body) => body.length + 64,
  });
  /** Sizes of binary files: immutable at their content-addressed keys (saves a HEAD per request on S3). */
  readonly #stats = new LRUCache<string, BlobStat>({ max: 50_000, ttl: 10 * 60_000 });

  constructor(deps: MediaSenderDeps) {
    this.#store = deps.store;
    this.#delivery = deps.delivery;
    this.#clock = deps.clock;
  }

  send(request: FastifyRequest, reply: FastifyReply, grant: MediaGrant): Promise<FastifyReply> {
    return grant.kind.text ? this.#sendText(request, reply, grant) : this.#sendBinary(request, reply, grant);
  }

  #cacheControl(grant: MediaGrant): string {
    return cacheControl({
      text: grant.kind.text,
      final: grant.final,
      expiresAt: grant.expiresAt,
      nowSeconds: Math.floor(this.#clock.nowMs() / 1000),
    });
  }

  async #sendText(request: FastifyRequest, reply: FastifyReply, grant: MediaGrant): Promise<FastifyReply> {
    const text = await this.#readText(grant.key, grant.final);
    if (!text) throw errors.mediaNotFound('No such media file');
    const coding = chooseEncoding(request.headers['accept-encoding']);
    const etags: Record<ContentCoding, string> = {
      identity: `"${text.hash}"`,
      gzip: `"${text.hash}-gzip"`,
      br: `"${text.hash}-br"`,
    };
    const common = {
      'cache-control': this.#cacheControl(grant),
      etag: etags[coding],
      vary: 'Accept-Encoding',
    };
    if (noneMatchHits(request.headers['if-none-match'], Object.values(etags))) {
      return reply.code(304).headers(common).send();
    }
    const body = coding === 'identity' ? text.body : await this.#compress(text, coding);
    // A text has no Last-Modified: only its entity tag can validate If-Range.
    const range = ifRangeAllows(header(request, 'if-range'), etags[coding], undefined)
      ? parseRange(request.headers.range, body.length)
      : ({ kind: 'full' } as const);
    if (range.kind === 'unsatisfiable') throw errors.rangeNotSatisfiable(body.length);
    reply.headers({ ...common, 'content-type': grant.kind.contentType, 'accept-ranges': 'bytes' });
    if (coding !== 'identity') reply.header('content-encoding', coding);
    const part = this.#applyRange(reply, range, body.length);
    if (request.method === 'HEAD') return reply.send();
    return reply.send(part ? body.subarray(part.start, part.end + 1) : body);
  }

  async #sendBinary(request: FastifyRequest, reply: FastifyReply, grant: MediaGrant): Promise<FastifyReply> {
    const redirect = await this.#redirectTarget(grant);
    if (redirect) {
      return reply
        .code(302)
        .headers({ location: redirect.location, 'cache-control': redirect.cacheControl })
        .send();
    }
    const stat = await this.#stat(grant.key);
    if (!stat) throw errors.mediaNotFound('No such media file');
    // Like nginx: mtime and size make a strong validator for a file that is written once.
    const etag = stat.etag ?? `"${stat.lastModified.getTime().toString(16)}-${stat.size.toString(16)}"`;
    const common = {
      'cache-control': this.#cacheControl(grant),
      etag,
      'last-modified': stat.lastModified.toUTCString(),
    };
    if (noneMatchHits(request.headers['if-none-match'], [etag]))
      return reply.code(304).headers(common).send();
    const range = ifRangeAllows(header(request, 'if-range'), etag, stat.lastModified)
      ? parseRange(request.headers.range, stat.size)
      : ({ kind: 'full' } as const);
    if (range.kind === 'unsatisfiable') throw errors.rangeNotSatisfiable(stat.size);
    const part = range.kind === 'partial' ? { start: range.start, end: range.end } : undefined;
    // Open the object before any header is set: one that vanished is a clean 404.
    const body = request.method === 'HEAD' ? undefined : await this.#open(grant.key, part);
    reply.headers({ ...common, 'content-type': grant.kind.contentType, 'accept-ranges': 'bytes' });
    this.#applyRange(reply, range, stat.size);
    if (!body) return reply.send();
    // Straight to the socket (the local store through reused buffers: platform/storage/file-range-writer.ts).
    reply.hijack();
    try {
      reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
      await body.writeTo(reply.raw).catch((error: unknown) => {
        // The head is out and the response cut off: say so, as Fastify does for a stream that fails.
        request.log.warn({ err: error }, 'response terminated with an error with headers already sent');
      });
    } finally {
      await body.close();
    }
    return reply;
  }

  async #open(key: string, range: ByteRange | undefined): Promise<BlobBody> {
    try {
      return await this.#store.openRange(key, range);
    } catch (error) {
      if (!(error instanceof BlobNotFoundError)) throw error;
      this.#stats.delete(key);
      throw errors.mediaNotFound('No such media file');
    }
  }

  /** 206 + Content-Range for a partial range; Content-Length in every case. */
  #applyRange(
    reply: FastifyReply,
    range: RangeResult,
    size: number,
  ): { start: number; end: number } | undefined {
    if (range.kind !== 'partial') {
      reply.header('content-length', size);
      return undefined;
    }
    reply
      .code(206)
      .header('content-range', contentRange(range.start, range.end, size))
      .header('content-length', range.end - range.start + 1);
    return range;
  }

  /**
   * Redirect mode: the CDN (PUBLIC_MEDIA_BASE_URL) for public and unlisted videos, else a URL the
   * store presigns (S3), living as long as the signed URL that authorized it. A private video on a
   * store that presigns nothing (local) has no URL to hand out: it is streamed.
   */
  async #redirectTarget(grant: MediaGrant): Promise<{ location: string; cacheControl: string } | undefined> {
    const { mode, publicMediaBaseUrl, signedUrlTtlSeconds } = this.#delivery;
    if (mode !== 'redirect') return undefined;
    if (publicMediaBaseUrl && grant.video.visibility !== 'private') {
      return { location: `${publicMediaBaseUrl}/${grant.key}`, cacheControl: 'public, max-age=300' };
    }
    if (!this.#store.presign) return undefined;
    const now = Math.floor(this.#clock.nowMs() / 1000);
    const ttl = grant.expiresAt === undefined ? signedUrlTtlSeconds : Math.max(60, grant.expiresAt - now);
    const location = await this.#store.presign(grant.key, ttl);
    return { location, cacheControl: 'private, no-store' };
  }

  async #stat(key: string): Promise<BlobStat | undefined> {
    const cached = this.#stats.get(key);
    if (cached) return cached;
    const stat = await this.#store.stat(key);
    if (stat) this.#stats.set(key, stat);
    return stat;
  }

  async #readText(key: string, final: boolean): Promise<TextFile | undefined> {
    const cached = final ? this.#finalTexts.get(key) : undefined;
    if (cached) return cached;
    let stream: Readable;
    try {
      stream = await this.#store.read(key);
    } catch (error) {
      if (error instanceof BlobNotFoundError) return undefined;
      throw error;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > MAX_TEXT_BYTES) {
        stream.destroy();
        throw new Error(`${key} is larger than ${MAX_TEXT_BYTES} bytes: not a playlist Reel wrote`);
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks, length);
    const text = { body, hash: createHash('sha256').update(body).digest('base64url').slice(0, 27) };
    if (final) this.#finalTexts.set(key, text);
    return text;
  }

  async #compress(text: TextFile, coding: 'gzip' | 'br'): Promise<Buffer> {
    const cacheKey = `${text.hash}:${coding}`;
    const cached = this.#compressed.get(cacheKey);
    if (cached) return cached;
    const body =
      coding === 'br'
        ? await brotli(text.body, {
            params: {
              [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
              [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
              [zlib.constants.BROTLI_PARAM_SIZE_HINT]: text.body.length,
            },
          })
        : await gzip(text.body, { level: 6 });
    this.#compressed.set(cacheKey, body);
    return body;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
