import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startS3rver } from '../../../test/support/s3rver.ts';
import { blobStoreContract } from './blob-store.contract.ts';
import { LocalBlobStore } from './local-blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';

blobStoreContract('local', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'reel-blob-store-'));
  return {
    store: new LocalBlobStore(root),
    presigns: false,
    storedBytes: () => directoryBytes(root),
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
  };
});

blobStoreContract('s3 (s3rver)', async () => {
  const s3rver = await startS3rver();
  const store = new S3BlobStore(s3rver.config);
  return {
    store,
    presigns: true,
    storedBytes: () => directoryBytes(s3rver.directory),
    async cleanup() {
      store.client.destroy();
      await s3rver.stop();
    },
  };
});

/** Apparent size of every file under a directory. */
async function directoryBytes(directory: string): Promise<number> {
  const entries = await fs.readdir(directory, { recursive: true, withFileTypes: true });
  let total = 0;
  for (const entry of entries) {
    if (entry.isFile()) total += (await fs.stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}
