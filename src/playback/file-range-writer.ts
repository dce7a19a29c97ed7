import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

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
 * Writes bytes `start`…`end` (inclusive) of `file` to `response` (whose head must already be written or
 * pending), then ends it. Stops quietly when the client goes away; destroys the response if the file
 * turns out shorter than expected. Does not close `file`.
 */
export async function writeFileRange(
  file: FileHandle,
  response: ServerResponse,
  start: number,
  end: number,
): Promise<void> {
  const buffer = pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  let reusable = true;
  try {
    let position = start;
    while (position <= end) {
      if (response.destroyed) {
        reusable = false;
        return;
      }
      const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK_BYTES, end - position + 1), position);
      if (bytesRead === 0) {
        reusable = false;
        response.destroy(new Error(`file ended at byte ${position}, before byte ${end}`));
        return;
      }
      position += bytesRead;
      const written = await write(
        response,
        bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead),
      );
      if (!written) {
        // The connection closed with this chunk possibly still queued: never hand that buffer out again.
        reusable = false;
        return;
      }
    }
    response.end();
  } catch (error) {
    reusable = false;
    response.destroy(error as Error);
  } finally {
    if (reusable && pool.length < POOL_LIMIT) pool.push(buffer);
  }
}

/** Resolves true once the socket has taken the chunk, false if the response closes first. */
function write(response: ServerResponse, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    response.once('close', onClose);
    response.write(chunk, (error) => {
      response.off('close', onClose);
      resolve(!error);
    });
  });
}
