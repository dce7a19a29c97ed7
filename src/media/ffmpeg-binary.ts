import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

export interface MediaToolOptions {
  /** From config FFMPEG_PATH: an executable path, or a command name looked up on PATH. */
  ffmpegPath?: string | undefined;
  /** From config FFPROBE_PATH. */
  ffprobePath?: string | undefined;
  /** The executable search path (PATH syntax); defaults to the process's PATH. */
  searchPath?: string | undefined;
}

interface Tool {
  command: 'ffmpeg' | 'ffprobe';
  configName: 'FFMPEG_PATH' | 'FFPROBE_PATH';
  bundledPackage: string;
}

const FFMPEG: Tool = {
  command: 'ffmpeg',
  configName: 'FFMPEG_PATH',
  bundledPackage: '@ffmpeg-installer/ffmpeg',
};
const FFPROBE: Tool = {
  command: 'ffprobe',
  configName: 'FFPROBE_PATH',
  bundledPackage: '@ffprobe-installer/ffprobe',
};

/**
 * Finds ffmpeg and ffprobe: the configured path → the PATH → the optional bundled
 * `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` packages. Throws an Error that says
 * how to install ffmpeg when none is found, or when a configured path is not an executable.
 */
export function resolveMediaTools(options: MediaToolOptions = {}): MediaTools {
  // PATH is the executable search path, not configuration: read it here unless the caller passes one.
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  return {
    ffmpeg: resolveTool(FFMPEG, options.ffmpegPath, searchPath),
    ffprobe: resolveTool(FFPROBE, options.ffprobePath, searchPath),
  };
}

function resolveTool(tool: Tool, configured: string | undefined, searchPath: string): string {
  if (configured) {
    const found = isBareCommand(configured) ? findOnPath(configured, searchPath) : executableFile(configured);
    if (found) return found;
    throw new Error(
      `${tool.configName}=${configured} is not an executable file. Point ${tool.configName} at the ` +
        `${tool.command} binary, or unset it to use the ${tool.command} found on PATH.`,
    );
  }
  const found = findOnPath(tool.command, searchPath) ?? bundledBinary(tool.bundledPackage);
  if (found) return found;
  throw new Error(
    `${tool.command} was not found. Reel needs ffmpeg and ffprobe: install them ` +
      `(Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg), or set ${tool.configName} ` +
      `to the binary's path, or npm install ${tool.bundledPackage}.`,
  );
}

function isBareCommand(value: string): boolean {
  return !value.includes('/') && !value.includes(path.sep);
}

function findOnPath(command: string, searchPath: string): string | undefined {
  const suffixes = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const suffix of suffixes) {
      const found = executableFile(path.join(dir, command + suffix));
      if (found) return found;
    }
  }
  return undefined;
}

function executableFile(candidate: string): string | undefined {
  try {
    if (!statSync(candidate).isFile()) return undefined;
    accessSync(candidate, constants.X_OK);
    return path.resolve(candidate);
  } catch {
    return undefined;
  }
}

/** The binary of an optional installer package, when that package is installed. */
function bundledBinary(packageName: string): string | undefined {
  try {
    const required: unknown = createRequire(import.meta.url)(packageName);
    const binary = (required as { path?: unknown } | null)?.path;
    return typeof binary === 'string' ? executableFile(binary) : undefined;
  } catch {
    return undefined;
  }
}
