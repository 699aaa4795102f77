// After a session: the rules of the review and appeal forms, checked in the browser before the
// server checks them again (reviews/rules.py, appeals/rules.py).

export interface PastSession {
  id: string;
  /** a 1:1 call (call_…) or a seat in a group voice room (vrs_…) */
  kind: "call" | "room";
  /** when it ended (or began, while it runs) */
  last_at: string;
  /** what it cost, net of refunds */
  paid_fen: number;
}

// -- reviews -------------------------------------------------------------------------------------

export const MAX_REVIEW_CHARS = 500;

export interface ReviewDraft {
  stars: number;
  tags: string[];
  text: string;
  anonymous: boolean;
}

/** The i18n key of what is wrong with a draft review, or null. */
export function reviewProblem(d: ReviewDraft, allowedTags: string[], maxTags: number): string | null {
  if (!Number.isInteger(d.stars) || d.stars < 1 || d.stars > 5) return "market.review.need_stars";
  if (d.tags.length > maxTags) return "market.review.too_many_tags";
  if (d.tags.some((t) => !allowedTags.includes(t))) return "market.review.unknown_tag";
  if (d.text.trim().length > MAX_REVIEW_CHARS) return "market.review.too_long";
  return null;
}

/** Tick or untick a tag chip; a tag beyond the maximum is not added. */
export function toggleTag(tags: string[], tag: string, maxTags: number): string[] {
  if (tags.includes(tag)) return tags.filter((t) => t !== tag);
  return tags.length >= maxTags ? tags : [...tags, tag];
}

// -- appeals -------------------------------------------------------------------------------------

export const APPEAL_REASONS = ["not_as_described", "companion_absent", "rude", "technical", "overcharged", "other"] as const;
export type AppealReason = (typeof APPEAL_REASONS)[number];
export const APPEAL_MIN_CHARS = 10;
export const APPEAL_MAX_CHARS = 1000;
/** PEILIAO_APPEAL_WINDOW_DAYS's default (the API says the window in its refusal only) */
export const APPEAL_WINDOW_DAYS = 7;

/** The i18n key of what is wrong with an appeal, or null. */
export function appealProblem(reason: string, text: string): string | null {
  if (!(APPEAL_REASONS as readonly string[]).includes(reason)) return "market.appeal.need_reason";
  const n = text.trim().length;
  if (n < APPEAL_MIN_CHARS) return "market.appeal.too_short";
  if (n > APPEAL_MAX_CHARS) return "market.appeal.too_long";
  return null;
}

/** A session that ended at ``endedMs`` may still be appealed at ``nowMs``. */
export function appealOpen(endedMs: number | null, nowMs: number, days = APPEAL_WINDOW_DAYS): boolean {
  return endedMs !== null && nowMs < endedMs + days * 86_400_000;
}
