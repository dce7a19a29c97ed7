import { errors } from '../errors.ts';

/** The fixed categories a video may have (PeerTube's list), by stable id. */
export const CATEGORIES = [
  { id: 'music', label: 'Music' },
  { id: 'films', label: 'Films' },
  { id: 'vehicles', label: 'Vehicles' },
  { id: 'art', label: 'Art' },
  { id: 'sports', label: 'Sports' },
  { id: 'travels', label: 'Travels' },
  { id: 'gaming', label: 'Gaming' },
  { id: 'people', label: 'People' },
  { id: 'comedy', label: 'Comedy' },
  { id: 'entertainment', label: 'Entertainment' },
  { id: 'news', label: 'News & Politics' },
  { id: 'howto', label: 'How To' },
  { id: 'education', label: 'Education' },
  { id: 'activism', label: 'Activism' },
  { id: 'science', label: 'Science & Technology' },
  { id: 'animals', label: 'Animals' },
  { id: 'kids', label: 'Kids' },
  { id: 'food', label: 'Food' },
] as const;
export type CategoryId = (typeof CATEGORIES)[number]['id'];
export const CATEGORY_IDS: readonly string[] = CATEGORIES.map((category) => category.id);

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 40;

/** One tag as stored and matched: trimmed, NFC, lower-cased. */
export function normalizeTag(tag: string): string {
  return tag.trim().normalize('NFC').toLowerCase();
}

/**
 * Tags as stored: each normalised (normalizeTag), duplicates dropped in first-seen order. An empty tag,
 * one over MAX_TAG_LENGTH characters or more than MAX_TAGS tags → VIDEO_TAGS_INVALID (nothing stored).
 */
export function normalizeTags(tags: readonly string[]): string[] {
  const normalized = [...new Set(tags.map(normalizeTag))];
  const bad = normalized.find((tag) => tag.length === 0 || [...tag].length > MAX_TAG_LENGTH);
  if (bad !== undefined) {
    throw errors.videoTagsInvalid(`Each tag must have 1 to ${MAX_TAG_LENGTH} characters`, { tag: bad });
  }
  if (normalized.length > MAX_TAGS) {
    throw errors.videoTagsInvalid(`A video has at most ${MAX_TAGS} tags`, { count: normalized.length });
  }
  return normalized;
}

/** A category id from CATEGORIES, or VIDEO_CATEGORY_UNKNOWN. */
export function checkCategory(category: string): CategoryId {
  if (!CATEGORY_IDS.includes(category)) {
    throw errors.videoCategoryUnknown(`Unknown category "${category}"; GET /api/v1/categories lists them`, {
      category,
    });
  }
  return category as CategoryId;
}

/** A well-formed BCP 47 language tag, canonicalised (`EN-us` → `en-US`), or VIDEO_LANGUAGE_INVALID. */
export function canonicalLanguage(language: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(language);
    if (canonical) return canonical;
  } catch {}
  throw errors.videoLanguageInvalid(`"${language}" is not a BCP 47 language tag (e.g. en, pt-BR)`, {
    language,
  });
}

/**
 * Text folded for sorting and matching the same way on PGlite and PostgreSQL (neither collation is
 * relied on): compatibility-decomposed, combining marks stripped, lower-cased.
 */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** What PATCH /api/v1/videos/:id (and upload completion) may set. */
export interface VideoEdit {
  title?: string | undefined;
  description?: string | undefined;
  tags?: string[] | undefined;
  category?: string | null | undefined;
  language?: string | null | undefined;
  visibility?: 'public' | 'unlisted' | 'private' | undefined;
}

function tagColumns(tags: string[]) {
  return { tags, search_tags: foldText(tags.join(' ')) };
}

/**
 * An edit (or a completion's input) with tags, category and language checked and normalised, the rest
 * as given. The one place these rules run, for PATCH and upload completion alike.
 */
export function normalizeEdit<E extends VideoEdit>(edit: E): E {
  return {
    ...edit,
    ...(edit.tags !== undefined ? { tags: normalizeTags(edit.tags) } : {}),
    ...(edit.category != null ? { category: checkCategory(edit.category) } : {}),
    ...(edit.language != null ? { language: canonicalLanguage(edit.language) } : {}),
  };
}

/** The columns an edit sets (normalizeEdit first); the folded search and sort columns follow the text. */
export function editedColumns(edit: VideoEdit) {
  const normalized = normalizeEdit(edit);
  const { title, description, tags, category, language, visibility } = normalized;
  return {
    ...(title !== undefined ? { title, title_sort: foldText(title) } : {}),
    ...(description !== undefined ? { description, search_description: foldText(description) } : {}),
    ...(tags !== undefined ? tagColumns(tags) : {}),
    ...(category !== undefined ? { category } : {}),
    ...(language !== undefined ? { language } : {}),
    ...(visibility !== undefined ? { visibility } : {}),
  };
}
