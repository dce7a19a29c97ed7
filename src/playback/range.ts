/*
 * HTTP Range (RFC 9110 §14) for one representation of a known size. Pure.
 *
 * Multiple ranges (`bytes=0-99,200-299`) are answered with the whole representation (200): RFC 9110
 * §14.2 lets a server ignore Range, players and download managers only ever ask for one range, and
 * multipart/byteranges responses are a known amplification vector (many small or overlapping ranges).
 */

export type RangeResult =
  /** No usable Range header (absent, another unit, malformed, or several ranges): send 200 and all bytes. */
  | { kind: 'full' }
  /** Send 206 with `Content-Range: bytes start-end/size`; `end` is inclusive. */
  | { kind: 'partial'; start: number; end: number }
  /** Send 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const FULL: RangeResult = { kind: 'full' };
const UNSATISFIABLE: RangeResult = { kind: 'unsatisfiable' };
const RANGE_SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return FULL;
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return FULL; // another range unit: ignored
  const specs = match[1]!
    .split(',')
    .map((spec) => spec.trim())
    .filter(Boolean);
  if (specs.length !== 1) return FULL; // none, or several ranges (see above)
  const spec = RANGE_SPEC.exec(specs[0]!);
  if (!spec) return FULL; // a malformed header is ignored, not an error
  const [, first, last, suffix] = spec;
  if (suffix !== undefined) {
    // The last N bytes; more than the file is the whole file, 0 bytes is nothing.
    const length = Number(suffix);
    if (length === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.POSITIVE_INFINITY : Number(last);
  if (end < start) return FULL; // invalid range-spec (§14.1.1): ignore the header
  if (start >= size) return UNSATISFIABLE;
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}
