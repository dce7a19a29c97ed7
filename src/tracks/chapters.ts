import { formatTimestamp } from './webvtt-time.ts';

/**
 * Chapters (pure): read from a description the way creators already write them (YouTube's convention:
 * lines starting with a timestamp, the first at 0:00, ascending, at least three), or given as a list and
 * checked against the video's duration; published as a WebVTT chapters track.
 */
export interface Chapter {
  /** Seconds from the start. */
  start: number;
  title: string;
}

const MIN_CHAPTERS = 3;
export const MAX_CHAPTERS = 100;
export const MAX_CHAPTER_TITLE = 100;

/** `0:00 Intro`, `1:02:03 - Part two`, `(12:30) Outro`: a timestamp, an optional separator, a title. */
const CHAPTER_LINE = /^\s*\(?((?:\d{1,2}:)?\d{1,2}:[0-5]\d)\)?\s*(?:[-–—:|.]\s*)?(\S.*?)\s*$/;

function secondsOf(timestamp: string): number {
  return timestamp.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

/**
 * The chapters a description lists, or undefined when it lists none by the convention (fewer than
 * three, not starting at 0:00, not ascending, or past the end of the video).
 */
export function chaptersFromDescription(description: string, durationSeconds: number): Chapter[] | undefined {
  const chapters: Chapter[] = [];
  for (const line of description.split(/\r\n|\r|\n/)) {
    const match = CHAPTER_LINE.exec(line);
    if (!match) continue;
    chapters.push({ start: secondsOf(match[1]!), title: match[2]!.slice(0, MAX_CHAPTER_TITLE) });
  }
  if (chapters.length < MIN_CHAPTERS || chapters.length > MAX_CHAPTERS || chapters[0]!.start !== 0)
    return undefined;
  const ascending = chapters.every((chapter, i) => i === 0 || chapter.start > chapters[i - 1]!.start);
  if (!ascending || chapters.at(-1)!.start >= durationSeconds) return undefined;
  return chapters;
}

/** Why a list of chapters is refused, with the index of the first bad entry. */
export interface ChaptersProblem {
  index: number;
  message: string;
}

/** Checks chapters given as a list: starts within the video, strictly ascending, titles 1–100 characters. */
export function checkChapters(
  chapters: readonly Chapter[],
  durationSeconds: number,
): ChaptersProblem | undefined {
  if (chapters.length > MAX_CHAPTERS)
    return { index: MAX_CHAPTERS, message: `At most ${MAX_CHAPTERS} chapters` };
  for (const [index, chapter] of chapters.entries()) {
    if (!Number.isFinite(chapter.start) || chapter.start < 0 || chapter.start >= durationSeconds) {
      return { index, message: `start must be within the video (0 to ${durationSeconds} s)` };
    }
    if (index > 0 && chapter.start <= chapters[index - 1]!.start) {
      return { index, message: 'starts must be strictly ascending' };
    }
    const title = chapter.title.trim();
    if (title.length === 0 || title.length > MAX_CHAPTER_TITLE) {
      return { index, message: `a title has 1 to ${MAX_CHAPTER_TITLE} characters` };
    }
  }
  return undefined;
}

/** A WebVTT chapters track: each chapter runs until the next one starts, the last until the end. */
export function chaptersVtt(chapters: readonly Chapter[], durationSeconds: number): string {
  const cues = chapters.map((chapter, i) => {
    const end = chapters[i + 1]?.start ?? durationSeconds;
    const title = chapter.title
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/\s+/g, ' ');
    return `${i + 1}\n${formatTimestamp(chapter.start)} --> ${formatTimestamp(end)}\n${title}\n`;
  });
  return `WEBVTT\n\n${cues.join('\n')}`;
}
