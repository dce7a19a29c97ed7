import type { Config } from '../../config.ts';
import type { BlobStore } from './blob-store.ts';
import { LocalBlobStore } from './local-blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';

export function createBlobStore(config: Config['storage']): BlobStore {
  return config.kind === 's3' ? new S3BlobStore(config) : new LocalBlobStore(config.root);
}
