import fs from 'node:fs/promises';
import path from 'node:path';

/** The key `reel keys create` saves for the local CLI (`<DATA_DIR>/cli-credentials.json`, mode 0600). */
export interface CliCredentials {
  apiKey: string;
  baseUrl?: string;
}

export async function saveCliCredentials(file: string, credentials: CliCredentials): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  // Created 0600 and renamed into place: the secret is never readable by others, even briefly.
  await fs.writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(temp, 0o600);
  await fs.rename(temp, file);
}

/** The saved credentials, or undefined when the file is missing or not usable. */
export async function readCliCredentials(file: string): Promise<CliCredentials | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<CliCredentials>;
    if (typeof parsed.apiKey !== 'string' || !parsed.apiKey) return undefined;
    return {
      apiKey: parsed.apiKey,
      ...(typeof parsed.baseUrl === 'string' && parsed.baseUrl ? { baseUrl: parsed.baseUrl } : {}),
    };
  } catch {
    return undefined;
  }
}
