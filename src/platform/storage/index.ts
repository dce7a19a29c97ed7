import type { BlobStore } from './blob-store.ts';
import { LocalBlobStore } from './local-blob-store.ts';
import type { StorageConfig } from './storage-config.ts';

/** The configured store. The AWS SDK (≈ 45 MB resident) is loaded only when S3 is configured. */
export async function createBlobStore(config: StorageConfig): Promise<BlobStore> {
  if (config.kind === 'local') return new LocalBlobStore(config.root);
  const { S3BlobStore } = await import('./s3-blob-store.ts');
  return new S3BlobStore(config);
}
