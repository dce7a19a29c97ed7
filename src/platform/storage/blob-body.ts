import type { FileHandle } from 'node:fs/promises';
import { finished, type Readable } from 'node:stream';
import type { BlobBody } from './blob-store.ts';
import { writeFileRange } from './file-range-writer.ts';

/** Bytes `start`…`end` (inclusive) of an open local file; the file is closed once sent or released. */
export function fileRangeBody(file: FileHandle, start: number, end: number): BlobBody {
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= file.close();
    return closed;
  };
  return {
    async writeTo(destination) {
      try {
        await writeFileRange(file, destination, start, end);
      } finally {
        await close();
      }
    },
    close,
  };
}

/** Any readable stream of the bytes (an S3 object body), piped as it comes. */
export function streamBody(stream: Readable): BlobBody {
  // Destroying an HTTP body that has not ended makes it emit an error ('aborted') a moment later:
  // an error after the body is sent or released must not go unhandled.
  stream.on('error', () => {});
  return {
    writeTo(destination) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const settle = (error?: unknown) => {
          if (settled) return;
          settled = true;
          if (error === undefined) resolve();
          else reject(error);
        };
        stream.once('error', (error) => {
          destination.destroy(error);
          settle(error);
        });
        // Ended, or closed first (a client gone): then the download stops too.
        finished(destination, (error) => {
          if (error) stream.destroy();
          settle();
        });
        stream.pipe(destination);
      });
    },
    async close() {
      stream.destroy();
    },
  };
}
