/** Container families Reel accepts, recognised from a file's first bytes. */
export type ContainerFamily =
  | 'isobmff'
  | 'matroska'
  | 'avi'
  | 'mpegts'
  | 'mpegps'
  | 'mpegvideo'
  | 'flv'
  | 'asf';

/** How many leading bytes `sniffContainer` looks at (enough for three 188-byte TS packets). */
export const SNIFF_BYTES = 512;

/**
 * The upload allow-list: each accepted extension and MIME type with the family it announces.
 * MIME types are compared case-insensitively and without parameters.
 */
const ACCEPTED: readonly { family: ContainerFamily; extensions: string[]; mimeTypes: string[] }[] = [
  {
    family: 'isobmff',
    extensions: ['mp4', 'mov', 'm4v', '3gp'],
    mimeTypes: ['video/mp4', 'video/quicktime', 'video/x-m4v', 'video/3gpp'],
  },
  { family: 'matroska', extensions: ['mkv', 'webm'], mimeTypes: ['video/x-matroska', 'video/webm'] },
  { family: 'avi', extensions: ['avi'], mimeTypes: ['video/x-msvideo', 'video/avi'] },
  // Windows reports .ts/.m2ts/.mts as video/vnd.dlna.mpeg-tts.
  {
    family: 'mpegts',
    extensions: ['ts', 'mts', 'm2ts'],
    mimeTypes: ['video/mp2t', 'video/vnd.dlna.mpeg-tts'],
  },
  { family: 'mpegps', extensions: ['mpeg', 'mpg'], mimeTypes: ['video/mpeg'] },
  { family: 'flv', extensions: ['flv'], mimeTypes: ['video/x-flv'] },
  { family: 'asf', extensions: ['wmv'], mimeTypes: ['video/x-ms-wmv', 'video/x-ms-asf'] },
];

/** MIME types that say nothing about the content: allowed, the bytes decide. */
const UNKNOWN_MIME_TYPES = ['application/octet-stream', ''];

const familyByExtension = new Map(ACCEPTED.flatMap((row) => row.extensions.map((ext) => [ext, row.family])));
const familyByMimeType = new Map(ACCEPTED.flatMap((row) => row.mimeTypes.map((type) => [type, row.family])));

export const ALLOWED_EXTENSIONS: readonly string[] = [...familyByExtension.keys()];
export const ALLOWED_MIME_TYPES: readonly string[] = [...familyByMimeType.keys(), UNKNOWN_MIME_TYPES[0]!];

/** The family a file name's extension announces, or null when the extension is not accepted. */
export function extensionFamily(filename: string): ContainerFamily | null {
  const dot = filename.lastIndexOf('.');
  if (dot < 0) return null;
  return familyByExtension.get(filename.slice(dot + 1).toLowerCase()) ?? null;
}

/**
 * The family a Content-Type announces: 'unknown' for application/octet-stream or an empty type
 * (rely on sniffing), null when the type is not accepted.
 */
export function mimeTypeFamily(contentType: string): ContainerFamily | 'unknown' | null {
  const essence = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (UNKNOWN_MIME_TYPES.includes(essence)) return 'unknown';
  return familyByMimeType.get(essence) ?? null;
}

/**
 * Early upload check: the extension and the MIME type must both be accepted. They need not agree
 * with each other (users rename files); the content is checked later by sniffing and probing.
 */
export function isAllowedUploadType(filename: string, contentType: string): boolean {
  return extensionFamily(filename) !== null && mimeTypeFamily(contentType) !== null;
}

const ISO_BMFF_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);
const EBML = [0x1a, 0x45, 0xdf, 0xa3];
const ASF_HEADER = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11];
const TS_SYNC = 0x47;

/**
 * Recognises a video container from its first bytes (pass up to SNIFF_BYTES). Returns the family,
 * or null when nothing is recognised. 3GP and QuickTime are ISO-BMFF; WebM is Matroska; M2TS is MPEG-TS.
 */
export function sniffContainer(head: Uint8Array): ContainerFamily | null {
  if (ISO_BMFF_BOXES.has(ascii(head, 4, 4))) return 'isobmff';
  if (startsWith(head, 0, EBML)) return 'matroska';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'AVI ') return 'avi';
  if (ascii(head, 0, 3) === 'FLV' && head[3] === 0x01) return 'flv';
  if (startsWith(head, 0, ASF_HEADER)) return 'asf';
  if (hasSyncBytes(head, 0, 188) || hasSyncBytes(head, 4, 192)) return 'mpegts';
  if (startsWith(head, 0, [0x00, 0x00, 0x01, 0xba])) return 'mpegps';
  if (startsWith(head, 0, [0x00, 0x00, 0x01, 0xb3])) return 'mpegvideo';
  return null;
}

/** TS sync byte at `first` and every `stride` bytes after it, for at least two packets. */
function hasSyncBytes(head: Uint8Array, first: number, stride: number): boolean {
  let seen = 0;
  for (let at = first; at < head.length; at += stride) {
    if (head[at] !== TS_SYNC) return false;
    seen++;
  }
  return seen >= 2;
}

function startsWith(head: Uint8Array, offset: number, bytes: number[]): boolean {
  return bytes.every((byte, i) => head[offset + i] === byte);
}

function ascii(head: Uint8Array, offset: number, length: number): string {
  if (head.length < offset + length) return '';
  return String.fromCharCode(...head.subarray(offset, offset + length));
}
