import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type ClientConfig, loadClientConfig } from '../config.ts';
import { parseByteSize } from '../platform/byte-size.ts';
import { ReelApi, ReelApiError } from './api.ts';
import { readCliCredentials } from './credentials.ts';
import { ProgressWriter } from './progress.ts';
import { uploadFile } from './upload-client.ts';

const UPLOAD_USAGE =
  'Usage: reel upload FILE… [--title T] [--parallel 4] [--chunk-size 8MiB] [--url URL] [--key KEY] [--json]';
const STATUS_USAGE = 'Usage: reel status VIDEO_ID [--url URL] [--key KEY]';

/** `reel upload` and `reel status`: the command-line client of a Reel server. Returns the exit code. */
export async function runClientCommand(command: 'upload' | 'status', args: string[]): Promise<number> {
  const config = loadClientConfig();
  try {
    return command === 'upload' ? await upload(args, config) : await status(args, config);
  } catch (error) {
    if (isUsageError(error)) {
      console.error(
        `reel ${command}: ${error.message}\n${command === 'upload' ? UPLOAD_USAGE : STATUS_USAGE}`,
      );
      return 2;
    }
    throw error;
  }
}

/** A command line parseArgs refused (unknown option, missing value, stray argument): exit code 2. */
export function isUsageError(error: unknown): error is TypeError {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export interface Target {
  baseUrl: string;
  apiKey: string | undefined;
}

/** Server and key: --url/--key, then REEL_URL/REEL_API_KEY, then the file `reel keys create` saved. */
export async function resolveTarget(
  config: ClientConfig,
  flags: { url?: string; key?: string },
): Promise<Target> {
  const saved = await readCliCredentials(config.credentialsPath);
  const apiKey = flags.key || config.apiKey || saved?.apiKey;
  // The saved server address goes with the saved key; an explicit --url or REEL_URL always wins.
  const savedUrl = !flags.key && !config.apiKey ? saved?.baseUrl : undefined;
  const baseUrl = flags.url || (config.baseUrlIsDefault ? (savedUrl ?? config.baseUrl) : config.baseUrl);
  return { baseUrl: baseUrl.replace(/\/+$/, ''), apiKey };
}

export function noKeyMessage(config: ClientConfig, command = 'upload'): string {
  return [
    `reel ${command}: no API key.`,
    'Create one on the server with:   reel keys create --name my-laptop',
    `(run where the server's DATA_DIR is; it is then saved to ${config.credentialsPath} for this machine),`,
    'or pass --key KEY, or set REEL_API_KEY.',
  ].join('\n');
}

interface UploadArgs {
  files: string[];
  title: string | undefined;
  parallel: number;
  chunkSize: number | undefined;
  json: boolean;
  url: string | undefined;
  key: string | undefined;
}

/** The command line of `reel upload`, or the exit code of a usage error (already reported). */
function parseUploadArgs(args: string[]): UploadArgs | number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      title: { type: 'string' },
      parallel: { type: 'string', default: '4' },
      'chunk-size': { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) {
    console.error(UPLOAD_USAGE);
    return 2;
  }
  const parallel = Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    console.error(`reel upload: --parallel must be an integer from 1 to 64, got "${values.parallel}"`);
    return 2;
  }
  const chunkSize = values['chunk-size'] === undefined ? undefined : parseByteSize(values['chunk-size']);
  if (values['chunk-size'] !== undefined && !chunkSize) {
    console.error(
      `reel upload: --chunk-size must be a size like 8MiB or 1048576, got "${values['chunk-size']}"`,
    );
    return 2;
  }
  const { title, json, url, key } = values;
  return { files: positionals, title, parallel, chunkSize, json: json ?? false, url, key };
}

async function upload(args: string[], config: ClientConfig): Promise<number> {
  const parsed = parseUploadArgs(args);
  if (typeof parsed === 'number') return parsed;
  const target = await resolveTarget(config, parsed);
  if (!target.apiKey) {
    console.error(noKeyMessage(config));
    return 1;
  }
  const missing = parsed.files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    for (const file of missing) console.error(`reel upload: ${file}: no such file`);
    return 1;
  }
  // Ctrl-C stops cleanly: the server keeps the chunks, and the same command resumes.
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  let failures = 0;
  try {
    for (const file of parsed.files) {
      if (controller.signal.aborted) break;
      const ok = await uploadOne(
        file,
        parsed,
        { ...target, apiKey: target.apiKey },
        config,
        controller.signal,
      );
      if (!ok) failures++;
    }
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
  if (controller.signal.aborted) return 130;
  return failures > 0 ? 1 : 0;
}

/** Uploads one file with a progress line; reports the outcome. Whether it succeeded. */
async function uploadOne(
  file: string,
  options: UploadArgs,
  target: { baseUrl: string; apiKey: string },
  config: ClientConfig,
  signal: AbortSignal,
): Promise<boolean> {
  const progress = new ProgressWriter(process.stderr, path.basename(file));
  try {
    const result = await uploadFile({
      baseUrl: target.baseUrl,
      apiKey: target.apiKey,
      filePath: file,
      title: options.title,
      parallel: options.parallel,
      chunkSize: options.chunkSize,
      statePath: config.statePath,
      signal,
      onProgress: (update) => progress.update(update),
      onRetry: ({ what, error, delayMs }) => {
        progress.finish();
        console.error(
          `${path.basename(file)}: ${what}: ${describe(error)}; retrying in ${(delayMs / 1000).toFixed(1)} s`,
        );
      },
    });
    progress.finish();
    const url = `${target.baseUrl}/api/v1/videos/${result.videoId}`;
    if (options.json) {
      console.log(JSON.stringify({ file, uploadId: result.uploadId, videoId: result.videoId, url }));
    } else {
      console.log(`${file}: video ${result.videoId}${result.resumed ? ' (resumed)' : ''}`);
      console.log(`  GET ${url}`);
    }
    return true;
  } catch (error) {
    progress.finish();
    if (signal.aborted) {
      console.error(`${file}: interrupted; run the same command again to resume.`);
      return false;
    }
    const { code, message } = errorFields(error, target.baseUrl);
    if (options.json) console.log(JSON.stringify({ file, error: { code, message } }));
    console.error(`${file}: ${code}: ${message}`);
    return false;
  }
}

async function status(args: string[], config: ClientConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { url: { type: 'string' }, key: { type: 'string' } },
  });
  const videoId = positionals[0];
  if (!videoId || positionals.length > 1) {
    console.error(STATUS_USAGE);
    return 2;
  }
  const target = await resolveTarget(config, values);
  const api = new ReelApi({ baseUrl: target.baseUrl, apiKey: target.apiKey, maxSockets: 1 });
  try {
    const video = await api.json('GET', `/api/v1/videos/${encodeURIComponent(videoId)}`);
    console.log(JSON.stringify(video, null, 2));
    return 0;
  } catch (error) {
    const { code, message } = errorFields(error, target.baseUrl);
    console.error(`reel status: ${code}: ${message}`);
    return 1;
  } finally {
    api.close();
  }
}

/** The `code: message` a command prints for a failed request (an API error, or why the server is unreachable). */
export function errorFields(error: unknown, baseUrl: string): { code: string; message: string } {
  if (error instanceof ReelApiError) return { code: error.code, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return { code, message: `${message} (is a Reel server running at ${baseUrl}? set REEL_URL or --url)` };
  }
  return { code: typeof code === 'string' ? code : 'CLIENT_ERROR', message };
}

function describe(error: unknown): string {
  if (error instanceof ReelApiError) return `${error.status} ${error.code}`;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}
