import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ApiKeys, hashSecret } from '../src/auth/api-keys.ts';
import type { Role } from '../src/auth/principal.ts';
import { openPGlite } from '../src/platform/db/database.ts';
import { migrate, migrations } from '../src/platform/db/migrations.ts';
import { newId } from '../src/platform/ids.ts';
import { startTestApp, type TestApp } from './support/harness.ts';
import { fetchMedia } from './support/playback.ts';
import { runCli } from './support/server-process.ts';
import { digestHeader } from './support/uploads.ts';
import { seedReadyVideo } from './support/videos.ts';

/**
 * Who may do what, route by route: {admin, owner member, other member, upload token, anonymous} ×
 * every route that reads or changes a video or an upload session. Each cell is its own `it`, named
 * "route [visibility] as principal → expected", so a failure names the cell.
 */

type Who = 'admin' | 'owner' | 'other' | 'token' | 'anonymous';
type Visibility = 'public' | 'unlisted' | 'private';
interface Expect {
  status: number;
  code?: string;
}

const WHO: readonly Who[] = ['admin', 'owner', 'other', 'token', 'anonymous'];
const VISIBILITIES: readonly Visibility[] = ['public', 'unlisted', 'private'];

const ok = (status: number): Expect => ({ status });
const VIDEO_NOT_FOUND: Expect = { status: 404, code: 'VIDEO_NOT_FOUND' };
const FORBIDDEN: Expect = { status: 403, code: 'FORBIDDEN' };
const AUTH_REQUIRED: Expect = { status: 401, code: 'AUTH_REQUIRED' };
const UPLOAD_NOT_FOUND: Expect = { status: 404, code: 'UPLOAD_NOT_FOUND' };

const label = (expect: Expect) => `${expect.status}${expect.code ? ` ${expect.code}` : ''}`;

/** GET /api/v1/videos/:id and GET /api/v1/videos/:id/events. */
const READ: Record<Visibility, Record<Who, Expect>> = {
  public: { admin: ok(200), owner: ok(200), other: ok(200), token: ok(200), anonymous: ok(200) },
  unlisted: { admin: ok(200), owner: ok(200), other: ok(200), token: ok(200), anonymous: ok(200) },
  private: {
    admin: ok(200),
    owner: ok(200),
    other: VIDEO_NOT_FOUND,
    token: VIDEO_NOT_FOUND,
    anonymous: VIDEO_NOT_FOUND,
  },
};

/** POST /api/v1/videos/:id/reprocess (success 202) and DELETE /api/v1/videos/:id (success 204). */
function manageMatrix(success: number): Record<Visibility, Record<Who, Expect>> {
  const hidden = {
    admin: ok(success),
    owner: ok(success),
    other: VIDEO_NOT_FOUND,
    token: FORBIDDEN,
    anonymous: AUTH_REQUIRED,
  };
  return {
    public: {
      admin: ok(success),
      owner: ok(success),
      other: FORBIDDEN,
      token: FORBIDDEN,
      anonymous: AUTH_REQUIRED,
    },
    unlisted: hidden,
    private: hidden,
  };
}
const REPROCESS = manageMatrix(202);
const DELETE = manageMatrix(204);

/** The four routes of an upload session owned by the owner key; "allowed" is route-specific. */
type UploadRoute =
  | 'GET /api/v1/uploads/:id'
  | 'PUT /api/v1/uploads/:id/chunks/0'
  | 'POST /api/v1/uploads/:id/complete'
  | 'DELETE /api/v1/uploads/:id';
const UPLOAD_ALLOWED: Record<UploadRoute, Expect> = {
  'GET /api/v1/uploads/:id': ok(200),
  'PUT /api/v1/uploads/:id/chunks/0': ok(200),
  'POST /api/v1/uploads/:id/complete': { status: 409, code: 'UPLOAD_INCOMPLETE' },
  'DELETE /api/v1/uploads/:id': ok(204),
};
/** `token` here is an upload token bound to a different session (its own). */
const UPLOAD_SESSION: Record<Who, Expect | 'allowed'> = {
  admin: 'allowed',
  owner: 'allowed',
  other: UPLOAD_NOT_FOUND,
  token: FORBIDDEN,
  anonymous: AUTH_REQUIRED,
};

/** POST /api/v1/uploads. `token` is a fresh token; `usedToken` one that already created a session. */
const CREATE_UPLOAD: Record<'admin' | 'owner' | 'token' | 'usedToken' | 'anonymous', Expect> = {
  admin: ok(201),
  owner: ok(201),
  token: ok(201),
  usedToken: { status: 403, code: 'UPLOAD_TOKEN_ALREADY_USED' },
  anonymous: AUTH_REQUIRED,
};

/** POST /api/v1/upload-tokens. */
const ISSUE_TOKEN: Record<'admin' | 'owner' | 'other' | 'token' | 'anonymous', Expect> = {
  admin: ok(201),
  owner: ok(201),
  other: ok(201),
  token: FORBIDDEN,
  anonymous: AUTH_REQUIRED,
};

/** 1000 bytes that sniff as ISO-BMFF (an `ftyp` box first): a chunk the server accepts. */
const CHUNK = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18]),
  Buffer.from('ftypisom', 'ascii'),
  Buffer.alloc(1000 - 12, 7),
]);
const CHUNK_DIGEST = digestHeader(CHUNK);
const NEW_UPLOAD = { filename: 'clip.mp4', size: CHUNK.length, contentType: 'video/mp4' };

function assertExpected(response: { statusCode: number; body: string; json(): any }, expect: Expect) {
  assert.equal(response.statusCode, expect.status, response.body);
  if (expect.code) assert.equal(response.json().error.code, expect.code, response.body);
}

describe('authorization matrix', () => {
  let t: TestApp;
  const secrets = {} as Record<Who, string | null>;
  const keyIds = {} as Record<'admin' | 'owner' | 'other', string>;
  /** The session the `token` principal created (its own). */
  let tokenSessionId: string;

  const auth = (who: Who) => secrets[who];

  async function issueToken(by: string): Promise<string> {
    const response = await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: by });
    assert.equal(response.statusCode, 201, response.body);
    return response.json().token;
  }

  async function createUpload(by: string): Promise<string> {
    const response = await t.request({ method: 'POST', url: '/api/v1/uploads', json: NEW_UPLOAD, auth: by });
    assert.equal(response.statusCode, 201, response.body);
    return response.json().id;
  }

  /** A ready video owned by the owner key, with an encode and a master playlist in storage. */
  async function seedVideo(visibility: Visibility, overrides: { upload_id?: string } = {}): Promise<string> {
    const id = newId();
    await seedReadyVideo(t, id, { visibility, owner_key_id: keyIds.owner, ...overrides });
    return id;
  }

  async function videoStatus(id: string): Promise<string> {
    const row = await t.app.database.db
      .selectFrom('videos')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return row.status;
  }

  async function uploadRow(id: string) {
    return t.app.database.db
      .selectFrom('uploads')
      .select(['state', 'owner_key_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  async function receivedChunks(id: string): Promise<number> {
    const rows = await t.app.database.db
      .selectFrom('upload_chunks')
      .select('idx')
      .where('upload_id', '=', id)
      .execute();
    return rows.length;
  }

  /** Readable videos per visibility, shared by the read-only cells. */
  const shared = {} as Record<Visibility, string>;

  before(async () => {
    t = await startTestApp({
      env: {
        UPLOAD_MAX_ACTIVE_SESSIONS: '1000',
        RATE_LIMIT_UPLOADS_PER_MINUTE: '10000',
        RATE_LIMIT_UPLOAD_TOKENS_PER_MINUTE: '10000',
        RATE_LIMIT_CHUNKS_PER_MINUTE: '10000',
        SIGNED_URL_TTL_SECONDS: '3600',
      },
    });
    const adminKey = (await t.app.auth.apiKeys.list()).find((key) => key.name === 'test');
    assert.ok(adminKey);
    assert.equal(adminKey.role, 'admin');
    keyIds.admin = adminKey.id;
    const owner = await t.app.auth.apiKeys.create('owner', 'member');
    const other = await t.app.auth.apiKeys.create('other', 'member');
    assert.equal(owner.key.role, 'member');
    assert.equal(other.key.role, 'member');
    keyIds.owner = owner.key.id;
    keyIds.other = other.key.id;
    secrets.admin = t.apiKey;
    secrets.owner = owner.secret;
    secrets.other = other.secret;
    secrets.anonymous = null;
    // The upload token: issued by the owner, it has created its own session.
    secrets.token = await issueToken(owner.secret);
    tokenSessionId = await createUpload(secrets.token);
    for (const visibility of VISIBILITIES) shared[visibility] = await seedVideo(visibility);
  });
  after(() => t.close());

  describe('GET /api/v1/videos/:id', () => {
    for (const visibility of VISIBILITIES) {
      for (const who of WHO) {
        const expect = READ[visibility][who];
        it(`GET /api/v1/videos/:id [${visibility}] as ${who} → ${label(expect)}`, async () => {
          const id = shared[visibility];
          const response = await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth: auth(who) });
          assertExpected(response, expect);
          if (expect.status !== 200) return;
          const video = response.json();
          assert.equal(video.id, id);
          assert.equal(video.visibility, visibility);
          assert.equal(video.status, 'ready');
          if (visibility === 'private') {
            assert.match(video.playback.hls, /\/media\/s\//, 'a private video gets a signed playback URL');
            const master = await fetchMedia(t, video.playback.hls);
            assert.equal(master.status, 200, master.body.toString());
            assert.match(master.body.toString(), /^#EXTM3U/);
          } else {
            assert.ok(video.playback.hls, 'a playback URL');
          }
        });
      }
    }

    it('GET /api/v1/videos/:id [private, made from the token’s own session] as token → 200, signed', async () => {
      const id = await seedVideo('private', { upload_id: tokenSessionId });
      const response = await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth: auth('token') });
      assert.equal(response.statusCode, 200, response.body);
      const video = response.json();
      assert.equal(video.id, id);
      assert.match(video.playback.hls, /\/media\/s\//);
      assert.equal((await fetchMedia(t, video.playback.hls)).status, 200);
      // The same private video is still hidden from the other member and from anonymous.
      for (const who of ['other', 'anonymous'] as const) {
        const hidden = await t.request({ method: 'GET', url: `/api/v1/videos/${id}`, auth: auth(who) });
        assertExpected(hidden, VIDEO_NOT_FOUND);
      }
    });

    it('GET /api/v1/videos/:id [private] as a token issued by the admin (not its session) → 404 VIDEO_NOT_FOUND', async () => {
      // A token carries its issuer's role, but reads only the video made from its own session.
      const adminToken = await issueToken(t.apiKey);
      await createUpload(adminToken);
      const response = await t.request({
        method: 'GET',
        url: `/api/v1/videos/${shared.private}`,
        auth: adminToken,
      });
      assertExpected(response, VIDEO_NOT_FOUND);
    });
  });

  describe('GET /api/v1/videos/:id/events', () => {
    for (const visibility of VISIBILITIES) {
      for (const who of WHO) {
        const expect = READ[visibility][who];
        it(`GET /api/v1/videos/:id/events [${visibility}] as ${who} → ${label(expect)}`, async () => {
          const id = shared[visibility];
          const response = await t.request({
            method: 'GET',
            url: `/api/v1/videos/${id}/events`,
            auth: auth(who),
          });
          assertExpected(response, expect);
          if (expect.status !== 200) return;
          assert.match(String(response.headers['content-type']), /^text\/event-stream/);
          const first = /^event: (\w+)\ndata: (.*)\n\n/.exec(response.body);
          assert.ok(first, response.body);
          assert.equal(first[1], 'progress');
          assert.equal(JSON.parse(first[2]!).id, id);
          assert.match(response.body, /event: ready\n/);
        });
      }
    }

    it('GET /api/v1/videos/:id/events [private, made from the token’s own session] as token → 200', async () => {
      const id = await seedVideo('private', { upload_id: tokenSessionId });
      const response = await t.request({
        method: 'GET',
        url: `/api/v1/videos/${id}/events`,
        auth: auth('token'),
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.match(response.body, /^event: progress\n/);
    });
  });

  describe('POST /api/v1/videos/:id/reprocess', () => {
    for (const visibility of VISIBILITIES) {
      for (const who of WHO) {
        const expect = REPROCESS[visibility][who];
        it(`POST /api/v1/videos/:id/reprocess [${visibility}] as ${who} → ${label(expect)}`, async () => {
          const id = await seedVideo(visibility);
          const response = await t.request({
            method: 'POST',
            url: `/api/v1/videos/${id}/reprocess`,
            auth: auth(who),
          });
          assertExpected(response, expect);
          if (expect.status === 202) {
            assert.equal(response.json().id, id);
            assert.equal(response.json().status, 'processing');
            assert.equal(await videoStatus(id), 'processing');
          } else {
            assert.equal(await videoStatus(id), 'ready', 'a refused reprocess changes nothing');
          }
        });
      }
    }
  });

  describe('DELETE /api/v1/videos/:id', () => {
    for (const visibility of VISIBILITIES) {
      for (const who of WHO) {
        const expect = DELETE[visibility][who];
        it(`DELETE /api/v1/videos/:id [${visibility}] as ${who} → ${label(expect)}`, async () => {
          const id = await seedVideo(visibility);
          const response = await t.request({
            method: 'DELETE',
            url: `/api/v1/videos/${id}`,
            auth: auth(who),
          });
          assertExpected(response, expect);
          if (expect.status === 204) {
            assert.equal(await videoStatus(id), 'deleted');
            const byOwner = await t.request({
              method: 'GET',
              url: `/api/v1/videos/${id}`,
              auth: auth('owner'),
            });
            assertExpected(byOwner, { status: 410, code: 'VIDEO_DELETED' });
            const byAdmin = await t.request({
              method: 'GET',
              url: `/api/v1/videos/${id}`,
              auth: auth('admin'),
            });
            assertExpected(byAdmin, { status: 410, code: 'VIDEO_DELETED' });
            if (visibility === 'private') {
              // Existence is not revealed, deleted or not.
              for (const hidden of ['other', 'token', 'anonymous'] as const) {
                const gone = await t.request({
                  method: 'GET',
                  url: `/api/v1/videos/${id}`,
                  auth: auth(hidden),
                });
                assertExpected(gone, VIDEO_NOT_FOUND);
              }
            }
          } else {
            assert.equal(await videoStatus(id), 'ready', 'a refused delete changes nothing');
            const byOwner = await t.request({
              method: 'GET',
              url: `/api/v1/videos/${id}`,
              auth: auth('owner'),
            });
            assert.equal(byOwner.statusCode, 200);
          }
        });
      }
    }
  });

  describe('upload sessions owned by the owner key', () => {
    const send = (route: UploadRoute, id: string, by: string | null) => {
      switch (route) {
        case 'GET /api/v1/uploads/:id':
          return t.request({ method: 'GET', url: `/api/v1/uploads/${id}`, auth: by });
        case 'PUT /api/v1/uploads/:id/chunks/0':
          return t.request({
            method: 'PUT',
            url: `/api/v1/uploads/${id}/chunks/0`,
            body: CHUNK,
            headers: { 'content-type': 'application/octet-stream', 'content-digest': CHUNK_DIGEST },
            auth: by,
          });
        case 'POST /api/v1/uploads/:id/complete':
          return t.request({ method: 'POST', url: `/api/v1/uploads/${id}/complete`, json: {}, auth: by });
        case 'DELETE /api/v1/uploads/:id':
          return t.request({ method: 'DELETE', url: `/api/v1/uploads/${id}`, auth: by });
      }
    };

    for (const route of Object.keys(UPLOAD_ALLOWED) as UploadRoute[]) {
      for (const who of WHO) {
        const cell = UPLOAD_SESSION[who];
        const expect = cell === 'allowed' ? UPLOAD_ALLOWED[route] : cell;
        const name = `${route} as ${who}${who === 'token' ? ' (bound to another session)' : ''}`;
        it(`${name} → ${label(expect)}${cell === 'allowed' ? ' (allowed)' : ''}`, async () => {
          const id = await createUpload(secrets.owner!);
          assert.equal((await uploadRow(id)).owner_key_id, keyIds.owner);
          const response = await send(route, id, auth(who));
          assertExpected(response, expect);
          const row = await uploadRow(id);
          if (cell !== 'allowed') {
            assert.equal(row.state, 'active', 'a refused request changes nothing');
            assert.equal(await receivedChunks(id), 0, 'a refused request stores nothing');
            return;
          }
          switch (route) {
            case 'GET /api/v1/uploads/:id':
              assert.equal(response.json().id, id);
              assert.deepEqual(response.json().missingChunks, [0]);
              break;
            case 'PUT /api/v1/uploads/:id/chunks/0':
              assert.equal(response.json().receivedChunks, 1);
              assert.equal(await receivedChunks(id), 1);
              break;
            case 'POST /api/v1/uploads/:id/complete':
              assert.deepEqual(response.json().error.details.missingChunks, [0]);
              assert.equal(row.state, 'active', 'an incomplete session stays resumable');
              break;
            case 'DELETE /api/v1/uploads/:id':
              assert.equal(row.state, 'aborted');
              break;
          }
        });
      }
    }

    it('GET /api/v1/uploads/:id as token on its own session → 200', async () => {
      const response = await send('GET /api/v1/uploads/:id', tokenSessionId, auth('token'));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().id, tokenSessionId);
    });

    it('PUT /api/v1/uploads/:id/chunks/0 as token on its own session → 200', async () => {
      const token = await issueToken(secrets.owner!);
      const id = await createUpload(token);
      const response = await send('PUT /api/v1/uploads/:id/chunks/0', id, token);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(await receivedChunks(id), 1);
    });
  });

  describe('POST /api/v1/uploads', () => {
    for (const [who, expect] of Object.entries(CREATE_UPLOAD) as [keyof typeof CREATE_UPLOAD, Expect][]) {
      const name =
        who === 'token' ? 'token (its first)' : who === 'usedToken' ? 'token that already created one' : who;
      it(`POST /api/v1/uploads as ${name} → ${label(expect)}`, async () => {
        let by: string | null;
        let owner: string | undefined;
        if (who === 'admin') [by, owner] = [t.apiKey, keyIds.admin];
        else if (who === 'owner') [by, owner] = [secrets.owner, keyIds.owner];
        else if (who === 'token') [by, owner] = [await issueToken(secrets.owner!), keyIds.owner];
        else if (who === 'usedToken')
          by = secrets.token; // it created tokenSessionId
        else by = null;
        const response = await t.request({
          method: 'POST',
          url: '/api/v1/uploads',
          json: NEW_UPLOAD,
          auth: by,
        });
        assertExpected(response, expect);
        if (expect.status === 201) {
          assert.equal((await uploadRow(response.json().id)).owner_key_id, owner);
        }
      });
    }
  });

  describe('POST /api/v1/upload-tokens', () => {
    for (const [who, expect] of Object.entries(ISSUE_TOKEN) as [Who, Expect][]) {
      it(`POST /api/v1/upload-tokens as ${who} → ${label(expect)}`, async () => {
        const response = await t.request({ method: 'POST', url: '/api/v1/upload-tokens', auth: auth(who) });
        assertExpected(response, expect);
        if (expect.status === 201) assert.match(response.json().token, /^rut_/);
      });
    }
  });

  it('a session created by a member’s upload token belongs to that member', async () => {
    const token = await issueToken(secrets.owner!);
    const id = await createUpload(token);
    assert.equal((await uploadRow(id)).owner_key_id, keyIds.owner);
    const byOwner = await t.request({ method: 'GET', url: `/api/v1/uploads/${id}`, auth: secrets.owner });
    assert.equal(byOwner.statusCode, 200, byOwner.body);
    const byOther = await t.request({ method: 'GET', url: `/api/v1/uploads/${id}`, auth: secrets.other });
    assertExpected(byOther, UPLOAD_NOT_FOUND);
    const byAdmin = await t.request({ method: 'GET', url: `/api/v1/uploads/${id}`, auth: t.apiKey });
    assert.equal(byAdmin.statusCode, 200, byAdmin.body);
  });
});

describe('key roles', () => {
  it('the first key is an admin even if member is asked; later keys default to member; invalid → VALIDATION_FAILED', async () => {
    const database = await openPGlite(undefined);
    try {
      await migrate(database.db);
      const keys = new ApiKeys(database.db);
      const first = await keys.create('first', 'member');
      assert.equal(first.key.role, 'admin');
      const second = await keys.create('second');
      assert.equal(second.key.role, 'member');
      const third = await keys.create('third', 'admin');
      assert.equal(third.key.role, 'admin');
      const fourth = await keys.create('fourth', 'member');
      assert.equal(fourth.key.role, 'member');
      await assert.rejects(keys.create('fifth', 'root' as Role), { code: 'VALIDATION_FAILED' });
      assert.deepEqual(
        (await keys.list()).map((key) => [key.name, key.role]),
        [
          ['first', 'admin'],
          ['second', 'member'],
          ['third', 'admin'],
          ['fourth', 'member'],
        ],
      );
      assert.deepEqual(await keys.verify(second.secret), { id: second.key.id, role: 'member' });
      assert.deepEqual(await keys.verify(first.secret), { id: first.key.id, role: 'admin' });
    } finally {
      await database.close();
    }
  });

  it('migration 0005_key_roles: keys that existed before it become admins', async () => {
    const database = await openPGlite(undefined);
    try {
      const { db } = database;
      const index = migrations.findIndex((migration) => migration.id === '0005_key_roles');
      assert.ok(index > 0);
      await sql`create table if not exists reel_migrations (id text primary key, applied_at timestamptz not null default now())`.execute(
        db,
      );
      for (const migration of migrations.slice(0, index)) {
        for (const statement of migration.statements) await sql.raw(statement).execute(db);
        await sql`insert into reel_migrations (id) values (${migration.id})`.execute(db);
      }
      const secret = 'reel_legacy-key-made-before-roles';
      await sql`insert into api_keys (id, name, hash) values (${'legacykey001'}, ${'legacy'}, ${hashSecret(secret)})`.execute(
        db,
      );

      const ran = await migrate(db);
      assert.deepEqual(
        ran,
        migrations.slice(index).map((migration) => migration.id),
      );
      const row = await db
        .selectFrom('api_keys')
        .select('role')
        .where('id', '=', 'legacykey001')
        .executeTakeFirstOrThrow();
      assert.equal(row.role, 'admin');
      const keys = new ApiKeys(db);
      assert.deepEqual(await keys.verify(secret), { id: 'legacykey001', role: 'admin' });
      // The default was only for the rows that existed: a new key is a member (not the first key).
      assert.equal((await keys.create('new')).key.role, 'member');
    } finally {
      await database.close();
    }
  });
});

describe('reel keys (CLI)', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'reel-keys-roles-'));
    env = { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), DATA_DIR: dir, PORT: '9124' };
    // An instance that already has its (admin) first key, so `--role member` is honoured.
    const database = await openPGlite(path.join(dir, 'db'));
    try {
      await migrate(database.db);
      await new ApiKeys(database.db).create('first');
    } finally {
      await database.close();
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keys create --role member prints the key; keys list shows the role column', async () => {
    const created = await runCli(['keys', 'create', '--name', 'x', '--role', 'member'], env);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim().split('\n').at(-1)!;
    assert.match(secret, /^reel_/);
    assert.match(created.stderr, /"x", member/);

    const listed = await runCli(['keys', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    assert.equal(lines.length, 2, listed.stdout);
    assert.match(lines.find((line) => /\s{2}first\s/.test(line)) ?? '', /\s{2}admin\s{2}/);
    assert.match(lines.find((line) => /\s{2}x\s/.test(line)) ?? '', /\s{2}member\s{2}/);
  });

  it('keys create --role root fails, naming the allowed roles', async () => {
    const refused = await runCli(['keys', 'create', '--name', 'y', '--role', 'root'], env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /admin, member/);
    assert.equal(refused.stdout, '');
  });
});
