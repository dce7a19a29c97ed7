import { parseArgs } from 'node:util';
import { type ClientConfig, loadClientConfig } from '../config.ts';
import { ReelApi, ReelApiError } from './api.ts';
import { errorFields, isUsageError, noKeyMessage, resolveTarget, type Target } from './client-commands.ts';

type CatalogCommand = 'list' | 'edit' | 'delete';

const USAGE: Record<CatalogCommand, string> = {
  list:
    'Usage: reel list [--q TEXT] [--status processing|failed|ready] [--owner me]\n' +
    '                 [--sort newest|oldest|duration|title|views|trending] [--limit N] [--all] [--json]\n' +
    '                 [--url URL] [--key KEY]',
  edit:
    'Usage: reel edit VIDEO_ID [--title T] [--description D] [--tags a,b] [--category C] [--language L]\n' +
    '                 [--visibility public|unlisted|private] [--json] [--url URL] [--key KEY]',
  delete: 'Usage: reel delete VIDEO_ID [--url URL] [--key KEY]',
};

// The API's own lists (src/catalog/video-list.ts), repeated here so a typo is a usage error before any request.
const SORTS = ['newest', 'oldest', 'duration', 'title', 'views', 'trending'];
const STATUSES = ['processing', 'failed', 'ready'];
const VISIBILITIES = ['public', 'unlisted', 'private'];
const MAX_LIMIT = 100;
const connection = { url: { type: 'string' }, key: { type: 'string' } } as const;

/** `reel list`, `reel edit` and `reel delete`: thin clients of the catalog API. Returns the exit code. */
export async function runCatalogCommand(command: CatalogCommand, args: string[]): Promise<number> {
  const config = loadClientConfig();
  const run = command === 'list' ? list : command === 'edit' ? edit : remove;
  try {
    return await run(args, config);
  } catch (error) {
    if (isUsageError(error)) return usage(command, error.message);
    throw error;
  }
}

function usage(command: CatalogCommand, problem?: string): number {
  console.error(problem ? `reel ${command}: ${problem}\n${USAGE[command]}` : USAGE[command]);
  return 2;
}

/** A request with its answer handled; a failure prints `reel COMMAND: CODE: message` and exits 1. */
async function withApi(
  command: CatalogCommand,
  target: Target,
  work: (api: ReelApi) => Promise<number>,
): Promise<number> {
  let api: ReelApi | undefined;
  try {
    api = new ReelApi({ baseUrl: target.baseUrl, apiKey: target.apiKey, maxSockets: 1 });
    return await work(api);
  } catch (error) {
    const { code, message } = errorFields(error, target.baseUrl);
    console.error(`reel ${command}: ${code}: ${message}`);
    return 1;
  } finally {
    api?.close();
  }
}

interface ListItem {
  id: string;
  title: string;
  durationSeconds: number | null;
  status?: string;
}

interface Page {
  items: ListItem[];
  nextCursor: string | null;
  [field: string]: unknown;
}

/** A word search's typo tolerance replaced (GET /api/v1/search). */
interface Correction {
  from: string;
  to: string;
}

interface ListArgs {
  path: string;
  query: URLSearchParams;
  all: boolean;
  json: boolean;
  url: string | undefined;
  key: string | undefined;
}

/** The command line of `reel list`, or the exit code of a usage error (already reported). */
function parseListArgs(args: string[]): ListArgs | number {
  const { values } = parseArgs({
    args,
    options: {
      q: { type: 'string' },
      status: { type: 'string' },
      owner: { type: 'string' },
      sort: { type: 'string' },
      limit: { type: 'string' },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      ...connection,
    },
  });
  const choices: Array<[string, string | undefined, string[]]> = [
    ['status', values.status, STATUSES],
    ['owner', values.owner, ['me']],
    // Search ranks by relevance unless told otherwise; the list has no relevance to sort by.
    ['sort', values.sort, values.q === undefined ? SORTS : ['relevance', ...SORTS]],
  ];
  for (const [name, value, allowed] of choices) {
    if (value !== undefined && !allowed.includes(value)) {
      return usage('list', `--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    }
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT)) {
    return usage('list', `--limit must be an integer from 1 to ${MAX_LIMIT}, got "${values.limit}"`);
  }
  const query = new URLSearchParams();
  if (values.q !== undefined) query.set('q', values.q);
  for (const name of ['status', 'owner', 'sort'] as const) {
    const value = values[name];
    if (value !== undefined) query.set(name, value);
  }
  if (limit !== undefined) query.set('limit', String(limit));
  const path = values.q === undefined ? '/api/v1/videos' : '/api/v1/search';
  const { all = false, json = false, url, key } = values;
  return { path, query, all, json, url, key };
}

async function list(args: string[], config: ClientConfig): Promise<number> {
  const parsed = parseListArgs(args);
  if (typeof parsed === 'number') return parsed;
  const target = await resolveTarget(config, parsed);
  if (!target.apiKey && (parsed.query.has('owner') || parsed.query.has('status'))) {
    console.error(noKeyMessage(config, 'list'));
    return 1;
  }
  return withApi('list', target, async (api) => {
    let page: Page;
    try {
      page = await fetchPages(api, parsed.path, parsed.query, parsed.all);
    } catch (error) {
      // An unknown route is 404 NOT_FOUND (an unknown video would be VIDEO_NOT_FOUND).
      const noRoute = error instanceof ReelApiError && error.status === 404 && error.code === 'NOT_FOUND';
      if (!noRoute || parsed.path !== '/api/v1/search') throw error;
      console.error('reel list: this server has no search yet');
      return 1;
    }
    if (parsed.json) console.log(JSON.stringify(page, null, 2));
    else printListing(page);
    return 0;
  });
}

/** The table on stdout; what it leaves out (more pages, corrected words) on stderr. */
function printListing(page: Page): void {
  printTable(page.items);
  if (page.items.length === 0) console.error('No videos.');
  const corrections = Array.isArray(page.corrections) ? (page.corrections as Correction[]) : [];
  if (corrections.length > 0) {
    const words = corrections.map(({ from, to }) => `${printable(from)} → ${printable(to)}`);
    console.error(`(searched with corrected words: ${words.join(', ')})`);
  }
  if (page.nextCursor !== null) console.error('(more: add --all, or a larger --limit up to 100)');
}

/** One page, or with `all` every page (following nextCursor until null) as one. */
async function fetchPages(api: ReelApi, path: string, query: URLSearchParams, all: boolean): Promise<Page> {
  const get = () => api.json<Page>('GET', query.size > 0 ? `${path}?${query}` : path);
  const first = await get();
  if (!all) return first;
  const items = [...first.items];
  const seen = new Set<string>();
  for (let cursor = first.nextCursor; cursor !== null; ) {
    if (seen.has(cursor)) throw new Error(`the server answered the cursor "${cursor}" twice`);
    seen.add(cursor);
    query.set('cursor', cursor);
    const page = await get();
    items.push(...page.items);
    cursor = page.nextCursor;
  }
  return { ...first, items, nextCursor: null };
}

/** One line a video: id, status (when the answer has it: key holders), duration, title. */
function printTable(items: ListItem[]): void {
  const withStatus = items.some((item) => typeof item.status === 'string');
  const durations = items.map((item) => formatDuration(item.durationSeconds));
  const width = Math.max(0, ...durations.map((duration) => duration.length));
  items.forEach((item, index) => {
    const cells = [item.id];
    if (withStatus) cells.push((item.status ?? '').padEnd(10));
    cells.push(durations[index]!.padStart(width), printable(item.title));
    console.log(cells.join('  '));
  });
}

/** m:ss, or h:mm:ss from an hour on; "-" when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '-';
  const total = Math.round(seconds);
  const [hours, minutes, secs] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const ss = String(secs).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
}

/** User text for a terminal: control characters (escape sequences, newlines) cannot reach it raw. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) =>
    char === '\n' ? '\\n' : char === '\t' ? '\\t' : '\uFFFD',
  );
}

const EDIT_FIELDS = ['title', 'description', 'tags', 'category', 'language', 'visibility'] as const;
type EditField = (typeof EDIT_FIELDS)[number];

/** The PATCH body of `reel edit`: `--tags ''` is no tags, `--category ''`/`--language ''` clear them. */
function editBody(values: Partial<Record<EditField, string>>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of EDIT_FIELDS) {
    const value = values[field];
    if (value === undefined) continue;
    if (field === 'tags') {
      body.tags = value
        .split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag !== '');
    } else if (field === 'category' || field === 'language') body[field] = value === '' ? null : value;
    else body[field] = value;
  }
  return body;
}

async function edit(args: string[], config: ClientConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...Object.fromEntries(EDIT_FIELDS.map((field) => [field, { type: 'string' as const }])),
      json: { type: 'boolean', default: false },
      ...connection,
    },
  });
  const fields = values as Partial<Record<EditField, string>>;
  const videoId = positionals[0];
  if (!videoId || positionals.length > 1) return usage('edit');
  if (fields.visibility !== undefined && !VISIBILITIES.includes(fields.visibility)) {
    return usage(
      'edit',
      `--visibility must be one of ${VISIBILITIES.join(', ')}, got "${fields.visibility}"`,
    );
  }
  const body = editBody(fields);
  if (Object.keys(body).length === 0) return usage('edit', 'nothing to change');
  const target = await resolveTarget(config, values as { url?: string; key?: string });
  if (!target.apiKey) {
    console.error(noKeyMessage(config, 'edit'));
    return 1;
  }
  return withApi('edit', target, async (api) => {
    const video = await api.json<Record<string, unknown>>('PATCH', videoPath(videoId), body);
    if (values.json) {
      console.log(JSON.stringify(video, null, 2));
      return 0;
    }
    console.log(`Updated ${videoId}`);
    for (const field of EDIT_FIELDS) {
      if (field in body) console.log(`  ${field}: ${show(video[field])}`);
    }
    return 0;
  });
}

/** A field of the answer, as the server stored it (tags normalised, language canonical). */
function show(value: unknown): string {
  if (Array.isArray(value))
    return value.length > 0 ? value.map((item) => printable(String(item))).join(', ') : '(none)';
  if (value === null || value === undefined) return '(none)';
  return printable(String(value));
}

async function remove(args: string[], config: ClientConfig): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: connection });
  const videoId = positionals[0];
  if (!videoId || positionals.length > 1) return usage('delete');
  const target = await resolveTarget(config, values);
  if (!target.apiKey) {
    console.error(noKeyMessage(config, 'delete'));
    return 1;
  }
  return withApi('delete', target, async (api) => {
    await api.json('DELETE', videoPath(videoId));
    console.log(`Deleted ${videoId}`);
    return 0;
  });
}

function videoPath(videoId: string): string {
  return `/api/v1/videos/${encodeURIComponent(videoId)}`;
}
