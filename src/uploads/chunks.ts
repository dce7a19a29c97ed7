/** Pure arithmetic of a chunked upload: sizes, ranges, the received set, digests. */

/** S3 allows at most 10,000 parts per multipart upload. */
export const MAX_CHUNKS = 10_000;

export function totalChunksFor(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Byte length chunk `index` must have: every chunk is full except possibly the last. */
export function expectedChunkLength(size: number, chunkSize: number, index: number): number {
  const total = totalChunksFor(size, chunkSize);
  if (!Number.isInteger(index) || index < 0 || index >= total) return -1;
  return index === total - 1 ? size - chunkSize * (total - 1) : chunkSize;
}

/** Inclusive byte range [start, end] of chunk `index` within the file. */
export function chunkRange(size: number, chunkSize: number, index: number): { start: number; end: number } {
  const start = index * chunkSize;
  return { start, end: start + expectedChunkLength(size, chunkSize, index) - 1 };
}

/** Indices in [0, total) that are not in `received`, ascending. */
export function missingChunks(received: Iterable<number>, total: number): number[] {
  const have = new Set(received);
  const missing: number[] = [];
  for (let index = 0; index < total; index++) if (!have.has(index)) missing.push(index);
  return missing;
}

/** Bytes held by the received chunks. */
export function bytesReceived(received: Iterable<number>, size: number, chunkSize: number): number {
  let sum = 0;
  for (const index of new Set(received)) sum += Math.max(0, expectedChunkLength(size, chunkSize, index));
  return sum;
}

/**
 * Picks the chunk size: the client's proposal if within bounds, else the default, grown when needed to
 * stay under MAX_CHUNKS. Returns an error message for a proposal out of bounds.
 */
export function chooseChunkSize(
  size: number,
  proposed: number | undefined,
  bounds: { defaultChunkSize: number; minChunkSize: number; maxChunkSize: number },
): { chunkSize: number } | { error: string } {
  if (proposed !== undefined) {
    if (!Number.isInteger(proposed) || proposed < bounds.minChunkSize || proposed > bounds.maxChunkSize) {
      return { error: `chunkSize must be between ${bounds.minChunkSize} and ${bounds.maxChunkSize} bytes` };
    }
    if (totalChunksFor(size, proposed) > MAX_CHUNKS) {
      return {
        error: `chunkSize ${proposed} makes more than ${MAX_CHUNKS} chunks for this file; use a larger one`,
      };
    }
    return { chunkSize: proposed };
  }
  const needed = Math.ceil(size / MAX_CHUNKS);
  const chunkSize = Math.max(bounds.defaultChunkSize, needed);
  if (chunkSize > bounds.maxChunkSize) return { error: 'file too large for the maximum chunk size' };
  return { chunkSize };
}

/**
 * Parses an RFC 9530 `Content-Digest` header and returns the raw SHA-256 bytes, or undefined when the
 * header has no well-formed sha-256 entry. Other algorithms may be listed alongside.
 */
export function parseContentDigest(header: string | undefined): Buffer | undefined {
  if (!header) return undefined;
  for (const member of header.split(',')) {
    const match = /^\s*sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):\s*$/i.exec(member);
    if (!match) continue;
    const digest = Buffer.from(match[1]!, 'base64');
    if (digest.length === 32) return digest;
  }
  return undefined;
}

export function formatContentDigest(sha256: Buffer): string {
  return `sha-256=:${sha256.toString('base64')}:`;
}
