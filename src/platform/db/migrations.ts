import { sql } from 'kysely';
import type { Db } from './database.ts';

/** Ordered, append-only. Each migration is a list of single statements (PGlite's extended protocol runs one at a time). */
export const migrations: ReadonlyArray<{ id: string; statements: string[] }> = [
  {
    id: '0001_foundation',
    statements: [
      `create extension if not exists pg_trgm`,
      `create table api_keys (
        id text primary key,
        name text not null,
        hash text not null unique,
        created_at timestamptz not null default now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`,
      `create table uploads (
        id text primary key,
        state text not null check (state in ('active','completing','completed','aborted','expired','rejected')),
        filename text not null,
        size bigint not null check (size > 0),
        content_type text not null,
        chunk_size integer not null check (chunk_size > 0),
        total_chunks integer not null check (total_chunks > 0),
        sha256 text,
        storage_key text not null,
        storage_upload_id text not null,
        owner_key_id text references api_keys(id),
        video_id text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        expires_at timestamptz not null
      )`,
      `create index uploads_expiry on uploads (expires_at) where state in ('active','completing')`,
      `create table upload_chunks (
        upload_id text not null references uploads(id) on delete cascade,
        idx integer not null check (idx >= 0),
        size integer not null,
        digest text not null,
        etag text,
        received_at timestamptz not null default now(),
        primary key (upload_id, idx)
      )`,
      `create table upload_tokens (
        id text primary key,
        hash text not null unique,
        api_key_id text not null references api_keys(id),
        expires_at timestamptz not null,
        upload_id text unique references uploads(id) on delete set null,
        created_at timestamptz not null default now()
      )`,
      `create table videos (
        id text primary key,
        title text not null,
        description text not null default '',
        tags text[] not null default '{}',
        visibility text not null check (visibility in ('public','unlisted','private')),
        status text not null check (status in ('processing','ready','failed')),
        duration_seconds double precision not null,
        width integer not null,
        height integer not null,
        fps double precision,
        video_codec text,
        audio_codec text,
        bitrate bigint,
        rotation integer not null default 0,
        container text,
        probe jsonb not null,
        source_key text not null,
        source_size bigint not null,
        upload_id text references uploads(id) on delete set null,
        owner_key_id text references api_keys(id),
        error jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      `create index videos_created on videos (created_at desc)`,
    ],
  },
  {
    id: '0002_processing',
    statements: [
      `alter table videos drop constraint videos_status_check`,
      `alter table videos add constraint videos_status_check check (status in ('processing','ready','failed','deleted'))`,
      `alter table videos add column playable boolean not null default false`,
      `alter table videos add column progress_percent real not null default 0`,
      `alter table videos add column eta_seconds integer`,
      // The encode being served, and the one being made (a reprocess keeps serving the old one).
      `alter table videos add column encode_id text`,
      `alter table videos add column pending_encode_id text`,
      `alter table videos add column renditions jsonb not null default '[]'`,
      `alter table videos add column outputs jsonb`,
      `alter table videos add column processing_log text`,
      `alter table videos add column ready_at timestamptz`,
    ],
  },
  {
    id: '0003_settings',
    statements: [
      // Instance-wide values every node must share, e.g. the generated signing secret of media URLs.
      `create table settings (key text primary key, value text not null)`,
    ],
  },
  {
    id: '0004_chunk_claims',
    statements: [
      // A chunk is claimed by one request ('writing', under a lease) before its bytes are written, and
      // becomes 'received' when they verified: bytes and digest always come from the same request.
      `alter table upload_chunks add column state text not null default 'received' check (state in ('writing','received'))`,
      `alter table upload_chunks add column writer_id text`,
      `alter table upload_chunks add column lease_until timestamptz`,
    ],
  },
  {
    id: '0005_key_roles',
    statements: [
      // Keys made before roles existed could do everything: they stay admins.
      `alter table api_keys add column role text not null default 'admin' check (role in ('admin','member'))`,
      `alter table api_keys alter column role drop default`,
    ],
  },
  {
    id: '0006_resumable_completion',
    statements: [
      `alter table uploads add column completion jsonb`,
      `alter table uploads add column completion_error jsonb`,
      `create index uploads_owner_open on uploads (owner_key_id) where state in ('active','completing')`,
    ],
  },
  {
    id: '0007_catalog',
    statements: [
      `alter table videos add column category text`,
      `alter table videos add column language text`,
      // Folded in the application (NFKD, marks stripped, lower-cased): one order on PGlite and PostgreSQL.
      `alter table videos add column title_sort text not null default ''`,
      `update videos set title_sort = lower(title)`,
      `alter table videos add column views bigint not null default 0`,
      `alter table videos add column views_recent bigint not null default 0`,
      // The public catalog's pages, one index per sort (keyset: sort key, then id).
      `create index videos_public_newest on videos (created_at, id collate "C") where status = 'ready' and visibility = 'public'`,
      `create index videos_public_duration on videos (duration_seconds, id collate "C") where status = 'ready' and visibility = 'public'`,
      `create index videos_public_title on videos (title_sort collate "C", id collate "C") where status = 'ready' and visibility = 'public'`,
      `create index videos_public_views on videos (views, id collate "C") where status = 'ready' and visibility = 'public'`,
      `create index videos_public_trending on videos (views_recent, id collate "C") where status = 'ready' and visibility = 'public'`,
      `create index videos_owner_newest on videos (owner_key_id, created_at, id collate "C")`,
      `create index videos_tags on videos using gin (tags)`,
    ],
  },
  {
    id: '0008_search',
    statements: [
      `create extension if not exists fuzzystrmatch`,
      // Folded in the application like title_sort, so matching is the same on PGlite and PostgreSQL.
      `alter table videos add column search_tags text not null default ''`,
      `alter table videos add column search_description text not null default ''`,
      `update videos set search_tags = lower(array_to_string(tags, ' ')), search_description = lower(description)`,
      `alter table videos add column search_vector tsvector generated always as (
        setweight(to_tsvector('simple', title_sort), 'A') ||
        setweight(to_tsvector('simple', search_tags), 'B') ||
        setweight(to_tsvector('simple', search_description), 'C')) stored`,
      `create index videos_search on videos using gin (search_vector) where status = 'ready' and visibility = 'public'`,
      // The words of titles and tags, for typo tolerance (trigram candidates, then an edit-distance check).
      `create table search_words (word text primary key)`,
      `create index search_words_trigrams on search_words using gin (word gin_trgm_ops)`,
      `insert into search_words
        select distinct w from videos, regexp_split_to_table(title_sort || ' ' || search_tags, '[^[:alnum:]]+') as w
        where w <> '' on conflict do nothing`,
    ],
  },
  {
    id: '0009_tag_counts',
    statements: [
      // How many public ready videos carry each tag, kept by a trigger in the same transaction as the change:
      // tag filters and type-ahead read one index range instead of unnesting every video's tags.
      `create table tag_counts (tag text primary key, videos integer not null default 0)`,
      `create index tag_counts_prefix on tag_counts (tag collate "C") where videos > 0`,
      `create function reel_count_tags() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' and old.status = 'ready' and old.visibility = 'public' then
          update tag_counts set videos = videos - 1 where tag = any(old.tags);
        end if;
        if tg_op <> 'DELETE' and new.status = 'ready' and new.visibility = 'public' then
          insert into tag_counts (tag, videos) select distinct t, 1 from unnest(new.tags) t
            on conflict (tag) do update set videos = tag_counts.videos + 1;
        end if;
        return null;
      end $$`,
      `create trigger videos_count_tags after insert or delete or update of tags, status, visibility on videos
        for each row execute function reel_count_tags()`,
      `insert into tag_counts (tag, videos)
        select t, count(*) from videos, unnest(tags) t where status = 'ready' and visibility = 'public' group by t`,
    ],
  },
  {
    id: '0010_views',
    statements: [
      // Playback analytics (views/). No IP, no raw viewer id, no user agent: viewers are HMACs under a
      // salt that changes every UTC day (and is deleted after two), clients are browser/OS/device classes.
      `create table view_salts (day date primary key, salt text not null)`,
      // Batches already counted (session + seq): a replay within the 24 h a batch is accepted counts once.
      `create table playback_batches (
        session_id text not null, seq integer not null, received_at timestamptz not null,
        primary key (session_id, seq))`,
      `create index playback_batches_age on playback_batches (received_at)`,
      `create table playback_sessions (
        id text primary key,
        video_id text not null,
        viewer_hash text not null,
        browser text not null, os text not null, device text not null,
        started_hour timestamptz not null,
        state jsonb not null,
        view_counted boolean not null default false,
        finalized boolean not null default false,
        updated_at timestamptz not null)`,
      `create index playback_sessions_open on playback_sessions (updated_at) where not finalized`,
      `create table viewer_last_views (
        video_id text not null, viewer_hash text not null, last_view_at timestamptz not null,
        primary key (video_id, viewer_hash))`,
      `create table view_hourly (
        video_id text not null,
        hour timestamptz not null,
        sessions integer not null default 0,
        views integer not null default 0,
        watch_seconds float8 not null default 0,
        stall_seconds float8 not null default 0,
        stalls integer not null default 0,
        switches_auto integer not null default 0,
        switches_manual integer not null default 0,
        startups integer not null default 0,
        startup_histogram jsonb not null default '{}',
        failures integer not null default 0,
        exits_before_start integer not null default 0,
        height_seconds jsonb not null default '{}',
        bitrate_seconds float8 not null default 0,
        bitrate_watched float8 not null default 0,
        upscale_weighted float8 not null default 0,
        upscale_watched float8 not null default 0,
        retention integer[] not null default array_fill(0, array[101]),
        peak_concurrent integer not null default 0,
        primary key (video_id, hour))`,
      // Rankings across videos (top videos of a range) read narrow indexes alone, not the wide rows: whole
      // days from the daily sums, the range's partial days from the hourly ones.
      `create index view_hourly_hour_totals on view_hourly (hour) include (video_id, views, watch_seconds, stall_seconds)`,
      `create table view_daily (
        video_id text not null, day timestamptz not null,
        views integer not null default 0, watch_seconds float8 not null default 0, stall_seconds float8 not null default 0,
        primary key (video_id, day))`,
      `create index view_daily_day_totals on view_daily (day) include (video_id, views, watch_seconds, stall_seconds)`,
      `create table view_hourly_dims (
        video_id text not null, hour timestamptz not null, dimension text not null, value text not null,
        sessions integer not null default 0,
        views integer not null default 0,
        watch_seconds float8 not null default 0,
        stall_seconds float8 not null default 0,
        failures integer not null default 0,
        primary key (video_id, hour, dimension, value))`,
      `create table view_minutes (
        video_id text not null, minute timestamptz not null, viewers integer not null,
        primary key (video_id, minute))`,
      `create table unique_viewers (
        video_id text not null, hour timestamptz not null, viewer_hash text not null,
        primary key (video_id, hour, viewer_hash))`,
      // Adding a flush's sums to a bucket: numbers under the same key, arrays element by element.
      `create function reel_jsonb_sum(a jsonb, b jsonb) returns jsonb language sql immutable as $$
        select coalesce(jsonb_object_agg(k, v), '{}'::jsonb) from (
          select k, sum(v::float8) as v from (
            select key as k, value as v from jsonb_each_text(a)
            union all select key, value from jsonb_each_text(b)) x group by k) y $$`,
      `create function reel_array_sum(a integer[], b integer[]) returns integer[] language sql immutable as $$
        select array_agg(coalesce(x, 0) + coalesce(y, 0) order by i) from unnest(a, b) with ordinality as t(x, y, i) $$`,
    ],
  },
];

/** Applies pending migrations under an advisory lock, so concurrent starts (many API nodes) are safe. */
export async function migrate(db: Db): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(7469001)`.execute(trx);
    await sql`create table if not exists reel_migrations (id text primary key, applied_at timestamptz not null default now())`.execute(
      trx,
    );
    const done = await sql<{ id: string }>`select id from reel_migrations`.execute(trx);
    const applied = new Set(done.rows.map((row) => row.id));
    const ran: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      for (const statement of migration.statements) await sql.raw(statement).execute(trx);
      await sql`insert into reel_migrations (id) values (${migration.id})`.execute(trx);
      ran.push(migration.id);
    }
    return ran;
  });
}
