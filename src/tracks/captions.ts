import { formatTimestamp, parseTimestamp } from './webvtt-time.ts';

/**
 * Caption files (pure): WebVTT or SRT in, clean WebVTT out. Cues are parsed strictly (a bad timing line
 * is an error naming its line), their text reduced to WebVTT's own cue markup (anything else — HTML,
 * `<script>`, `<font>`, SSA `{\an8}` overrides — is removed, stray `&`/`<`/`>` escaped), and sorted by start.
 */
export interface Cue {
  start: number;
  end: number;
  /** WebVTT cue settings kept (position, line, align, size, vertical, region), space-separated. */
  settings: string;
  /** Sanitised cue text (lines joined by \n). */
  text: string;
}

export type CaptionParse = { cues: Cue[] } | { error: { line: number; message: string } };

export const MAX_CUES = 50_000;

const TIMING = /^(\S+)\s+-->\s+(\S+)(.*)$/;
const SETTING =
  /^(vertical:(rl|lr)|line:-?\d+(\.\d+)?%?(,(start|center|end))?|position:\d+(\.\d+)?%(,(line-left|center|line-right))?|size:\d+(\.\d+)?%|align:(start|center|end|left|right)|region:[\w-]+)$/;

/** Parses a caption file; the first problem stops it (line numbers count from 1). */
export function parseCaptions(input: string): CaptionParse {
  const lines = input.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const vtt = /^WEBVTT(\s|$)/.test(lines[0] ?? '');
  if (!vtt && (lines[0] ?? '').startsWith('WEBVTT'))
    return { error: { line: 1, message: 'A bad WEBVTT header' } };
  const cues: Cue[] = [];
  let index = vtt ? skipBlock(lines, 0) : 0;
  while (index < lines.length) {
    if (lines[index]!.trim() === '') {
      index++;
      continue;
    }
    const block = readBlock(lines, index);
    if (vtt && /^(NOTE|STYLE|REGION)(\s|$)/.test(lines[index]!)) {
      index = block.next;
      continue;
    }
    const cue = parseCue(lines, index, block.next, vtt);
    if ('error' in cue) return cue;
    if (cue.cue.text !== '') cues.push(cue.cue);
    if (cues.length > MAX_CUES) return { error: { line: index + 1, message: `At most ${MAX_CUES} cues` } };
    index = block.next;
  }
  cues.sort((a, b) => a.start - b.start || a.end - b.end);
  return { cues };
}

function readBlock(lines: string[], from: number): { next: number } {
  let next = from;
  while (next < lines.length && lines[next]!.trim() !== '') next++;
  return { next };
}

function skipBlock(lines: string[], from: number): number {
  return readBlock(lines, from).next;
}

function parseCue(
  lines: string[],
  from: number,
  to: number,
  vtt: boolean,
): { cue: Cue } | { error: { line: number; message: string } } {
  // An identifier (WebVTT) or a counter (SRT) may come before the timing line.
  const timingAt = TIMING.test(lines[from]!) ? from : from + 1;
  const timing = timingAt < to ? TIMING.exec(lines[timingAt]!) : null;
  if (!timing)
    return {
      error: { line: timingAt + 1, message: 'Expected a timing line like 00:00:01.000 --> 00:00:02.500' },
    };
  const start = parseTimestamp(timing[1]!);
  const end = parseTimestamp(timing[2]!);
  if (start === undefined || end === undefined) {
    return {
      error: { line: timingAt + 1, message: `A bad timestamp in "${lines[timingAt]!.slice(0, 80)}"` },
    };
  }
  if (end <= start) return { error: { line: timingAt + 1, message: 'A cue must end after it starts' } };
  const settings = vtt
    ? timing[3]!
        .trim()
        .split(/\s+/)
        .filter((setting) => SETTING.test(setting))
        .join(' ')
    : '';
  const text = lines
    .slice(timingAt + 1, to)
    .map(sanitizeCueText)
    .filter((line) => line !== '')
    .join('\n');
  return { cue: { start, end, settings, text } };
}

/** WebVTT's cue tags: class, italic, bold, underline, ruby, voice, language, and cue timestamps. */
const ALLOWED_TAG =
  /^<\/?(c|i|b|u|ruby|rt)(\.[\w-]+)*>$|^<(v|lang)(\.[\w-]+)*( [^<>]*)?>$|^<\/(v|lang)>$|^<(\d{1,3}:)?[0-5]\d:[0-5]\d\.\d{3}>$/;
const ENTITY = /^&(amp|lt|gt|lrm|rlm|nbsp);/;

/** One line of cue text reduced to WebVTT's grammar. */
export function sanitizeCueText(line: string): string {
  const withoutOverrides = line.replace(/\{\\[^}]*\}/g, ''); // SSA/ASS overrides some SRT files carry
  let out = '';
  for (let i = 0; i < withoutOverrides.length; ) {
    const char = withoutOverrides[i]!;
    // A tag starts with a name, `/` or a timestamp right after '<'; any other '<' is text.
    if (char === '<' && /[A-Za-z0-9/]/.test(withoutOverrides[i + 1] ?? '')) {
      const close = withoutOverrides.indexOf('>', i);
      const tag = close === -1 ? '' : withoutOverrides.slice(i, close + 1);
      if (tag && ALLOWED_TAG.test(tag)) out += tag;
      else if (!tag) out += '&lt;';
      i = tag ? close + 1 : i + 1;
      continue;
    }
    if (char === '&') {
      const entity = ENTITY.exec(withoutOverrides.slice(i));
      out += entity ? entity[0] : '&amp;';
      i += entity ? entity[0].length : 1;
      continue;
    }
    out += char === '>' ? '&gt;' : char === '<' ? '&lt;' : char;
    i++;
  }
  return out.trim(); // '-->' cannot survive: every '>' not closing an allowed tag is escaped
}

/** Cues as a WebVTT file. */
export function toWebVtt(cues: readonly Cue[]): string {
  const blocks = cues.map((cue) => {
    const timing = `${formatTimestamp(cue.start)} --> ${formatTimestamp(cue.end)}${cue.settings ? ` ${cue.settings}` : ''}`;
    return `${timing}\n${cue.text}\n`;
  });
  return `WEBVTT\n\n${blocks.join('\n')}`;
}
