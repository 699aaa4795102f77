// Discovery's filters and sort, kept in the page's URL (a reload or a shared link shows the same
// list) and turned into the catalog's query (GET /api/companions).  Pure: the view binds it.
import type { Mode } from "./types";

export const SORTS = ["recommended", "rating", "price", "orders", "new"] as const;
export type Sort = (typeof SORTS)[number];
export const MODES = ["text", "voice", "video"] as const;
export const GENDERS = ["female", "male"] as const;
/** the minimum ratings a customer can pick (stars) */
export const RATINGS = [4, 4.5, 4.8] as const;
export const PAGE_SIZE = 20;
/** the catalog's bounds (catalog/routes.py ListQuery) */
const MAX_Q = 40;
const MAX_FEN = 1_000_000;

export interface Filters {
  q: string;
  specialty: string;
  mode: Mode | "";
  minFen: number | null;
  maxFen: number | null;
  minRating: number | null;
  gender: "" | "female" | "male";
  online: boolean;
  sort: Sort;
}

export function defaults(): Filters {
  return { q: "", specialty: "", mode: "", minFen: null, maxFen: null, minRating: null, gender: "", online: false, sort: "recommended" };
}

type QueryValue = string | null | (string | null)[] | undefined;

function one(v: QueryValue): string {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === "string" ? s : "";
}

function fen(v: QueryValue): number | null {
  const s = one(v);
  if (!/^\d{1,7}$/.test(s)) return null;
  const n = Number(s);
  return n <= MAX_FEN ? n : null;
}

function pick<T extends string>(v: QueryValue, allowed: readonly T[]): T | "" {
  const s = one(v);
  return (allowed as readonly string[]).includes(s) ? (s as T) : "";
}

/** What the URL says, checked: anything unknown or malformed is left at its default, and the
 * rules the server enforces are applied (prices and the price sort need a mode). */
export function fromQuery(query: Record<string, QueryValue>): Filters {
  const f = defaults();
  f.q = one(query.q).slice(0, MAX_Q);
  f.specialty = one(query.specialty).slice(0, 20);
  f.mode = pick(query.mode, MODES);
  f.minFen = fen(query.min_fen);
  f.maxFen = fen(query.max_fen);
  const rating = Number(one(query.rating));
  f.minRating = (RATINGS as readonly number[]).includes(rating) ? rating : null;
  f.gender = pick(query.gender, GENDERS);
  f.online = one(query.online) === "1";
  f.sort = pick(query.sort, SORTS) || "recommended";
  return normalize(f);
}

/** Prices are per mode: sorting by price with no mode picked sorts by this one (said on the
 * page), instead of refusing the sort. */
export const PRICE_DEFAULT_MODE: Mode = "text";

/** The server refuses a price bound or the price sort without a mode: the price sort takes
 * the default mode; price bounds without a mode are dropped. */
export function normalize(f: Filters): Filters {
  const out = { ...f };
  if (!out.mode && out.sort === "price") out.mode = PRICE_DEFAULT_MODE;
  if (!out.mode) {
    out.minFen = null;
    out.maxFen = null;
  }
  if (out.minFen !== null && out.maxFen !== null && out.minFen > out.maxFen) {
    [out.minFen, out.maxFen] = [out.maxFen, out.minFen];
  }
  return out;
}

/** The URL query of some filters: only what differs from the defaults, in a stable order. */
export function toQuery(f: Filters): Record<string, string> {
  const n = normalize(f);
  const q: Record<string, string> = {};
  if (n.q.trim()) q.q = n.q.trim();
  if (n.specialty) q.specialty = n.specialty;
  if (n.mode) q.mode = n.mode;
  if (n.minFen !== null) q.min_fen = String(n.minFen);
  if (n.maxFen !== null) q.max_fen = String(n.maxFen);
  if (n.minRating !== null) q.rating = String(n.minRating);
  if (n.gender) q.gender = n.gender;
  if (n.online) q.online = "1";
  if (n.sort !== "recommended") q.sort = n.sort;
  return q;
}

/** GET /api/companions's parameters for a page of these filters. */
export function apiQuery(f: Filters, cursor: string | null = null, limit = PAGE_SIZE): Record<string, string | number | boolean | null> {
  const n = normalize(f);
  return {
    q: n.q.trim() || null,
    specialty: n.specialty || null,
    mode: n.mode || null,
    min_fen: n.minFen,
    max_fen: n.maxFen,
    min_rating: n.minRating,
    gender: n.gender || null,
    online: n.online || null,
    sort: n.sort === "recommended" ? null : n.sort,
    cursor,
    limit,
  };
}

export function sameFilters(a: Filters, b: Filters): boolean {
  return JSON.stringify(toQuery(a)) === JSON.stringify(toQuery(b));
}

/** Whether any filter narrows the list (the "clear" button shows then). */
export function narrowed(f: Filters): boolean {
  const q = toQuery(f);
  delete q.sort;
  return Object.keys(q).length > 0;
}

/** Append a page to what is shown, each companion once: a companion whose sort key changed
 * between two pages can come again (catalog/listing.py), and must not show twice. */
export function appendPage<T extends { id: string }>(have: T[], page: T[]): T[] {
  const seen = new Set(have.map((c) => c.id));
  return [...have, ...page.filter((c) => !seen.has(c.id))];
}

/** Stars of a rating × 100, for display: 4.57 → { full: 4, half: true, text: "4.6" }. */
export function stars(ratingX100: number): { full: number; half: boolean; text: string } {
  const clamped = Math.max(0, Math.min(500, Math.round(ratingX100)));
  const tenths = Math.round(clamped / 10);
  const full = Math.floor(clamped / 100);
  const rest = clamped - full * 100;
  return { full: rest >= 75 ? full + 1 : full, half: rest >= 25 && rest < 75, text: (tenths / 10).toFixed(1) };
}

/** Those online now first, each group keeping its order (the server's ``recommended`` order
 * does the same, catalog/ranking.py presence_first): for lists ordered here, like favourites. */
export function onlineFirst<T extends { status: string }>(list: readonly T[]): T[] {
  return [...list.filter((c) => c.status === "online"), ...list.filter((c) => c.status !== "online")];
}

export const LEVELS = ["newcomer", "senior", "gold"] as const;
export type Level = (typeof LEVELS)[number];

/** The badge of a companion's level as the server has it (CompanionRate.level): an unknown
 * level shows no badge rather than a wrong one (never 新人 for someone who is not). */
export function levelBadge(level: string | null | undefined): Level | null {
  return (LEVELS as readonly string[]).includes(level ?? "") ? (level as Level) : null;
}
