import type { DeliveryConfig } from '../config.ts';
import type { Cache } from '../platform/cache/cache.ts';
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { DomainModule } from '../platform/module.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';
import { MediaAccess } from './media-access.ts';
import { MediaLinks } from './media-links.ts';
import { mediaRoutes } from './media-routes.ts';
import { MediaSender } from './media-sender.ts';
import { playableVideos } from './playable-video.ts';
import { loadSigningSecret } from './signing-secret.ts';
import { MediaUrlSigner } from './url-signer.ts';

export interface PlaybackDeps {
  db: Db;
  store: BlobStore;
  clock: Clock;
  cache: Cache;
  delivery: DeliveryConfig;
}

export interface Playback extends DomainModule {
  /** The playback URLs the API hands out (signed for private videos). */
  links: MediaLinks;
}

/** Media delivery: HLS, MP4 and images under /media, signed URLs for private videos. */
export async function createPlayback(deps: PlaybackDeps): Promise<Playback> {
  const { db, store, clock, delivery } = deps;
  // Signed media URLs: one secret shared by every node (configured, or generated once in the database).
  const signer = new MediaUrlSigner(await loadSigningSecret(db, delivery.signingSecret));
  const access = new MediaAccess({
    videos: playableVideos(db),
    signer,
    clock,
    cache: deps.cache.namespace('playback'),
  });
  const sender = new MediaSender({ store, delivery, clock });
  return {
    links: new MediaLinks(signer, delivery.signedUrlTtlSeconds, clock),
    routes: (app) => mediaRoutes(app, { access, sender }),
  };
}
