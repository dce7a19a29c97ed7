import fs from 'node:fs/promises';
import path from 'node:path';

/** What the client remembers about an unfinished upload. */
export interface ResumeEntry {
  uploadId: string;
  baseUrl: string;
  createdAt: string;
}

/**
 * The key of a file's entry: its absolute path, size and modification time. A file changed since the
 * upload started (new size or mtime) gets a new key, hence a fresh upload, never a mix of versions.
 * JSON keeps the parts apart whatever characters the path holds.
 */
export function resumeKey(absolutePath: string, size: number, mtimeMs: number): string {
  if (!path.isAbsolute(absolutePath))
    throw new TypeError(`resumeKey needs an absolute path, got "${absolutePath}"`);
  return JSON.stringify([path.normalize(absolutePath), size, mtimeMs]);
}

/** The entries of a state file's text; malformed text or entries are dropped (the state is only a cache). */
export function parseResumeState(text: string): Record<string, ResumeEntry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const uploads = (parsed as { uploads?: unknown } | null)?.uploads;
  if (!uploads || typeof uploads !== 'object') return {};
  const entries: Record<string, ResumeEntry> = {};
  for (const [key, value] of Object.entries(uploads)) {
    const entry = value as Partial<ResumeEntry> | null;
    if (typeof entry?.uploadId === 'string' && typeof entry.baseUrl === 'string') {
      entries[key] = {
        uploadId: entry.uploadId,
        baseUrl: entry.baseUrl,
        createdAt: String(entry.createdAt ?? ''),
      };
    }
  }
  return entries;
}

export function formatResumeState(entries: Record<string, ResumeEntry>): string {
  return `${JSON.stringify({ version: 1, uploads: entries }, null, 2)}\n`;
}

/**
 * A JSON file of unfinished uploads (`{ version, uploads: { [resumeKey]: entry } }`). Every change
 * re-reads the file and replaces it atomically, so concurrent `reel upload` runs lose at most a
 * resume hint, never the file.
 */
export class ResumeStateFile {
  readonly path: string;

  constructor(file: string) {
    this.path = file;
  }

  async get(key: string): Promise<ResumeEntry | undefined> {
    return (await this.#read())[key];
  }

  async set(key: string, entry: ResumeEntry): Promise<void> {
    const entries = await this.#read();
    entries[key] = entry;
    await this.#write(entries);
  }

  async delete(key: string): Promise<void> {
    const entries = await this.#read();
    if (!(key in entries)) return;
    delete entries[key];
    await this.#write(entries);
  }

  async #read(): Promise<Record<string, ResumeEntry>> {
    try {
      return parseResumeState(await fs.readFile(this.path, 'utf8'));
    } catch {
      return {};
    }
  }

  async #write(entries: Record<string, ResumeEntry>): Promise<void> {
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await fs.writeFile(temp, formatResumeState(entries), { mode: 0o600 });
    await fs.rename(temp, this.path);
  }
}
