import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { NewVideo } from '../../src/catalog/video-repository.ts';
import type { VideoStatus } from '../../src/platform/db/schema.ts';
import type { TestApp } from './harness.ts';
import { insertVideo, seedReadyVideo } from './videos.ts';

/** A catalog row as the tests want it: any status, an exact creation time. */
export interface SeedOptions extends Partial<NewVideo> {
  status?: VideoStatus;
  /** ISO 8601, up to microseconds: the row's `created_at` (newest/oldest sorts, uploaded* filters). */
  createdAt?: string;
}

/**
 * A video row in the given status (ready ones with an encode, as seedReadyVideo makes them), then its
 * `created_at` and status set directly: the catalog only reads these columns, so no upload is needed.
 */
export async function seedVideo(t: TestApp, id: string, options: SeedOptions = {}): Promise<void> {
  const { status = 'ready', createdAt, ...overrides } = options;
  if (status === 'ready' || status === 'deleted') await seedReadyVideo(t, id, overrides);
  else await insertVideo(t, id, overrides);
  const db = t.app.database.db;
  // Cast by the database, so microseconds survive (a JS Date has milliseconds only).
  if (createdAt) {
    await db
      .updateTable('videos')
      .set({ created_at: sql<Date>`${createdAt}::timestamptz` })
      .where('id', '=', id)
      .execute();
  }
  if (status === 'failed' || status === 'deleted') {
    await db.updateTable('videos').set({ status }).where('id', '=', id).execute();
  }
}

/** PATCH /api/v1/videos/:id (the harness's request() has no PATCH): the admin key unless `auth`. */
export async function patchVideo(t: TestApp, id: string, json: unknown, auth?: string | null) {
  const token = auth === undefined ? t.apiKey : auth;
  const response = await t.app.http.inject({
    method: 'PATCH',
    url: `/api/v1/videos/${id}`,
    payload: JSON.stringify(json),
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  return { statusCode: response.statusCode, json: () => response.json(), body: response.body };
}

/** GET /api/v1/videos?<query>: the whole answer, asserted 200. */
export async function listPage(
  t: TestApp,
  query: string,
  auth?: string | null,
): Promise<{ items: any[]; nextCursor: string | null }> {
  const response = await t.request({ method: 'GET', url: `/api/v1/videos${query ? `?${query}` : ''}`, auth });
  assert.equal(response.statusCode, 200, `${query}: ${response.body}`);
  return response.json();
}

/** The ids of one list page, in order. */
export async function listIds(t: TestApp, query: string, auth?: string | null): Promise<string[]> {
  return (await listPage(t, query, auth)).items.map((item) => item.id);
}

/** Every page of a list, following nextCursor; `between` runs after each page but the last. */
export async function walkList(
  t: TestApp,
  query: string,
  options: { auth?: string | null; between?: (page: number, seen: string[]) => Promise<void> } = {},
): Promise<{ pages: string[][]; lastCursor: string | null }> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const separator = query ? '&' : '';
    const url = cursor === null ? query : `${query}${separator}cursor=${encodeURIComponent(cursor)}`;
    const answer = await listPage(t, url, options.auth);
    pages.push(answer.items.map((item) => item.id));
    cursor = answer.nextCursor;
    if (cursor === null) return { pages, lastCursor: null };
    await options.between?.(page, pages.flat());
  }
  throw new Error(`${query}: more than 100 pages`);
}

/** An error answer: its status and code. */
export async function errorOf(
  response: Promise<{ statusCode: number; json: () => any; body: string }>,
): Promise<[number, string]> {
  const answer = await response;
  return [answer.statusCode, answer.json()?.error?.code];
}
