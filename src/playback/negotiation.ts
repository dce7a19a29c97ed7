/*
 * Conditional requests (RFC 9110 §13) and content-coding negotiation (§12.5.3). Pure.
 */

/** Entity tags in an If-None-Match / If-Match list, with their weakness prefix removed. */
function entityTags(header: string): string[] {
  return [...header.matchAll(/(?:W\/)?("[^"]*")/g)].map((match) => match[1]!);
}

/**
 * If-None-Match: true when the client's cached copy is current (answer 304). Weak comparison, as the
 * RFC requires for this header; `etags` are every tag of the resource (one per content coding).
 */
export function noneMatchHits(header: string | undefined, etags: readonly string[]): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const current = new Set(etags.map((tag) => tag.replace(/^W\//, '')));
  return entityTags(header).some((tag) => current.has(tag));
}

/**
 * If-Range: true when the Range header may be honoured. The validator must match strongly: the exact
 * (strong) entity tag, or the exact Last-Modified date; anything else means "send the whole file".
 */
export function ifRangeAllows(
  header: string | undefined,
  etag: string,
  lastModified: Date | undefined,
): boolean {
  if (header === undefined) return true;
  const value = header.trim();
  if (value.startsWith('W/')) return false;
  if (value.startsWith('"')) return !etag.startsWith('W/') && value === etag;
  const date = Date.parse(value);
  return (
    lastModified !== undefined &&
    Number.isFinite(date) &&
    Math.floor(date / 1000) === Math.floor(lastModified.getTime() / 1000)
  );
}

export type ContentCoding = 'br' | 'gzip' | 'identity';

/**
 * The coding to send for a compressible text, from Accept-Encoding: brotli, then gzip, then none.
 * `q=0` refuses a coding; `*` stands for any coding not named.
 */
export function chooseEncoding(header: string | undefined): ContentCoding {
  if (!header) return 'identity';
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param);
      if (match) q = Number(match[1]);
    }
    weights.set(name.trim() === 'x-gzip' ? 'gzip' : name.trim(), Number.isFinite(q) ? q : 0);
  }
  const weight = (coding: string) => weights.get(coding) ?? weights.get('*') ?? 0;
  const br = weight('br');
  const gzip = weight('gzip');
  if (br > 0 && br >= gzip) return 'br';
  if (gzip > 0) return 'gzip';
  return 'identity';
}
