import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/*
 * Sends a byte range of a local file through a small pool of reused 1 MiB buffers.
 *
 * Why not fs.createReadStream: it allocates a fresh 1 MiB buffer for every read. At hundreds of MB/s
 * that is hundreds of MB/s of external memory, which keeps V8's major GC running; in Reel's process
 * (a large heap: database, SDKs) marking that heap cost a third of the CPU and capped segment serving
 * at about half of plain Node (measured with bench/serve.ts). Here a buffer is reused as soon as the
 * socket has taken its bytes (the write callback), so serving allocates nothing per chunk.
 */

const CHUNK_BYTES = 1024 * 1024;
/** Buffers kept for reuse (64 MiB at most); one is in use per response being sent. */
const POOL_LIMIT = 64;
const pool: Buffer[] = [];

/**
 * Writes bytes `start`…`end` (inclusive) of `file` to `destination` (an HTTP response whose head must
 * already be written or pending), then ends it. Stops quietly when the client goes away. When the file
 * cannot be read or turns out shorter than expected, destroys the destination with that error and
 * rejects with it. Does not close `file`.
 */
export async function writeFileRange(
  file: FileHandle,
  destination: Writable,
  start: number,
  end: number,
): Promise<void> {
  const buffer = pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  let reusable = true;
  try {
    let position = start;
    while (position <= end) {
      if (destination.destroyed) {
        reusable = false;
        return;
      }
      const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK_BYTES, end - position + 1), position);
      if (bytesRead === 0) throw new Error(`file ended at byte ${position}, before byte ${end}`);
      position += bytesRead;
      const written = await write(
        destination,
        bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead),
      );
      if (!written) {
        // The connection closed with this chunk possibly still queued: never hand that buffer out again.
        reusable = false;
        return;
      }
    }
    destination.end();
  } catch (error) {
    reusable = false;
    destination.destroy(error as Error);
    throw error;
  } finally {
    if (reusable && pool.length < POOL_LIMIT) pool.push(buffer);
  }
}

/** Resolves true once the socket has taken the chunk, false if the destination closes first. */
function write(destination: Writable, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    destination.once('close', onClose);
    destination.write(chunk, (error) => {
      destination.off('close', onClose);
      resolve(!error);
    });
  });
}
