import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MEDIA_PLAYLIST_NAME } from '../media/encode-args.ts';
import { type MediaPlaylist, parseMediaPlaylist, toVodPlaylist } from '../media/playlists.ts';
import type { BlobStore } from '../platform/storage/blob-store.ts';

export interface PublishedVariant {
  name: string;
  playlist: MediaPlaylist | undefined;
  /** Bytes of each published segment, by URI. */
  segmentBytes: Map<string, number>;
}

/**
 * Copies an HLS encode from the local work directory to storage while ffmpeg is still writing it.
 * Order matters: the init segment and every segment reach storage before any playlist lists them,
 * so a player following the EVENT playlist never asks for a missing file.
 */
export class HlsPublisher {
  readonly #store: BlobStore;
  readonly #prefix: string;
  readonly #localDir: string;
  readonly variants: PublishedVariant[];
  readonly #publishedPlaylists = new Map<string, string>();
  readonly #publishedInit = new Set<string>();

  constructor(store: BlobStore, prefix: string, localDir: string, variantNames: string[]) {
    this.#store = store;
    this.#prefix = prefix;
    this.#localDir = localDir;
    this.variants = variantNames.map((name) => ({ name, playlist: undefined, segmentBytes: new Map() }));
  }

  /** Publishes whatever ffmpeg has finished; `final` turns the playlists into VOD. */
  async sync(final = false): Promise<void> {
    for (const variant of this.variants) await this.#syncVariant(variant, final);
  }

  /** Every variant has at least one segment in storage, listed by a published playlist. */
  get playable(): boolean {
    return this.variants.every((variant) => (variant.playlist?.segments.length ?? 0) > 0);
  }

  async #syncVariant(variant: PublishedVariant, final: boolean): Promise<void> {
    const dir = path.join(this.#localDir, variant.name);
    const text = await fs.readFile(path.join(dir, MEDIA_PLAYLIST_NAME), 'utf8').catch(() => undefined);
    if (!text) return;
    let playlist: MediaPlaylist;
    try {
      playlist = parseMediaPlaylist(text);
    } catch {
      return; // caught mid-write: the next pass will see it whole
    }
    if (playlist.segments.length === 0) return;
    if (playlist.mapUri && !this.#publishedInit.has(variant.name)) {
      await this.#putFile(variant.name, playlist.mapUri);
      this.#publishedInit.add(variant.name);
    }
    for (const segment of playlist.segments) {
      if (variant.segmentBytes.has(segment.uri)) continue;
      variant.segmentBytes.set(segment.uri, await this.#putFile(variant.name, segment.uri));
    }
    const published = final ? toVodPlaylist(text) : text;
    if (this.#publishedPlaylists.get(variant.name) !== published) {
      await this.#store.put(
        `${this.#prefix}${variant.name}/${MEDIA_PLAYLIST_NAME}`,
        published,
        'application/vnd.apple.mpegurl',
      );
      this.#publishedPlaylists.set(variant.name, published);
    }
    variant.playlist = playlist;
  }

  async #putFile(variant: string, uri: string): Promise<number> {
    if (uri.includes('/') || uri.includes('..'))
      throw new Error(`unexpected segment URI from ffmpeg: ${uri}`);
    const file = path.join(this.#localDir, variant, uri);
    const { size } = await fs.stat(file);
    await this.#store.put(`${this.#prefix}${variant}/${uri}`, createReadStream(file), 'video/mp4');
    return size;
  }
}
