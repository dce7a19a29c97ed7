import type { TestApp } from './harness.ts';

export interface MediaResponse {
  status: number;
  headers: Record<string, string | undefined>;
  /** The raw bytes (binary-safe, unlike TestApp.request's body string). */
  body: Buffer;
  json(): any;
}

/** A media request through fastify.inject, without credentials; `url` may be absolute (only its path is used). */
export async function fetchMedia(
  t: TestApp,
  url: string,
  options: { method?: 'GET' | 'HEAD' | 'OPTIONS'; headers?: Record<string, string> } = {},
): Promise<MediaResponse> {
  const { pathname } = new URL(url, 'http://reel.test');
  const response = await t.app.http.inject({
    method: options.method ?? 'GET',
    url: pathname,
    headers: options.headers ?? {},
  });
  return {
    status: response.statusCode,
    headers: response.headers as Record<string, string | undefined>,
    body: response.rawPayload,
    json: () => JSON.parse(response.body),
  };
}

/** Polls a video with the API key (private videos are invisible without it) until it is ready. */
export async function waitForReady(t: TestApp, id: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = (await t.request({ method: 'GET', url: `/api/v1/videos/${id}` })).json();
    if (video.status === 'ready') return video;
    if (video.status === 'failed') throw new Error(`video ${id} failed: ${JSON.stringify(video.error)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for video ${id}: ${JSON.stringify(video)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** URIs listed by a playlist (variant playlists, segments, EXT-X-MAP and EXT-X-MEDIA URIs). */
export function playlistUris(text: string): string[] {
  const uris: string[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    if (line.startsWith('#')) {
      const match = /URI="([^"]+)"/.exec(line);
      if (match) uris.push(match[1]!);
    } else {
      uris.push(line);
    }
  }
  return uris;
}
