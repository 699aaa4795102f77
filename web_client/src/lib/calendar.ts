// The booking calendar's maths: slots come from GET /api/companions/{id}/availability as
// half-hour cells in China time (UTC+8 all year: no daylight saving); a booking of a duration
// needs that many consecutive free cells.  Pure, so it is tested without a clock or a server.
import type { Booking, BookingStatus, SlotDay } from "./market";

const CHINA_OFFSET_MS = 8 * 3600_000;
const MIN_MS = 60_000;
/** PEILIAO_BOOKING_HOLD_MINUTES's default: the API does not say what the server uses. */
export const DEFAULT_HOLD_MINUTES = 10;

/** "HH:MM" of an instant in China time. */
export function chinaTime(iso: string | number): string {
  const ms = typeof iso === "number" ? iso : Date.parse(iso);
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(11, 16);
}

/** "YYYY-MM-DD" of an instant in China time. */
export function chinaDate(iso: string | number): string {
  const ms = typeof iso === "number" ? iso : Date.parse(iso);
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday of a "YYYY-MM-DD". */
export function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** "MM-DD" of a "YYYY-MM-DD". */
export function monthDay(date: string): string {
  return date.slice(5);
}

export interface StartChoice {
  /** the cell's instant as the API gave it (what POST /api/bookings takes back) */
  at: string;
  time: string;
  /** free for the whole duration */
  ok: boolean;
}

/** Each day's starts for a booking of ``durationMin``: every free cell, marked bookable when
 * the cells after it (across midnight too) are free for the whole duration. */
export function starts(days: SlotDay[], durationMin: number, slotMin = 30): { date: string; choices: StartChoice[] }[] {
  const free = new Set<number>();
  for (const d of days) for (const s of d.slots) free.add(Date.parse(s));
  const cells = Math.max(1, Math.ceil(durationMin / slotMin));
  return days.map((d) => ({
    date: d.date,
    choices: d.slots.map((s) => {
      const t = Date.parse(s);
      let ok = true;
      for (let i = 1; i < cells && ok; i++) ok = free.has(t + i * slotMin * MIN_MS);
      return { at: s, time: chinaTime(t), ok };
    }),
  }));
}

/** The first day with a bookable start (the tab to open on), or the first day. */
export function firstOpenDay(choices: { date: string; choices: StartChoice[] }[]): string | null {
  return (choices.find((d) => d.choices.some((c) => c.ok)) ?? choices[0])?.date ?? null;
}

/** What a booking takes from the wallet (bookings.rules.Policy.hold_fen). */
export function holdFen(rateFenPerMin: number, durationMin: number, holdMinutes = DEFAULT_HOLD_MINUTES): number {
  return rateFenPerMin * Math.min(durationMin, holdMinutes);
}

/** "YYYY-MM-DD" plus ``n`` days. */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// -- my bookings ---------------------------------------------------------------------------------

export const PENDING: readonly BookingStatus[] = ["requested", "confirmed"];
export const UPCOMING: readonly BookingStatus[] = ["confirmed", "starting", "in_call"];

export type CancelTerms =
  | { can: false }
  /** free: nothing is kept (not confirmed yet, or early enough) */
  | { can: true; free: true; why: "unconfirmed" | "free"; until: string | null }
  /** late: part of the hold goes to the companion */
  | { can: true; free: false; holdFen: number };

/** Whether the customer may cancel now, and whether it costs a late-cancellation fee: the
 * server's free_cancel_until says (bookings.rules.cancel_terms). */
export function cancelTerms(b: Booking, nowMs: number): CancelTerms {
  if (!PENDING.includes(b.status as BookingStatus) || nowMs >= Date.parse(b.starts_at)) return { can: false };
  if (b.status === "requested") return { can: true, free: true, why: "unconfirmed", until: null };
  if (nowMs < Date.parse(b.free_cancel_until)) return { can: true, free: true, why: "free", until: b.free_cancel_until };
  return { can: true, free: false, holdFen: b.hold_fen };
}

/** Which tab of "my bookings" a booking belongs to. */
export function bookingGroup(b: Booking): "upcoming" | "requested" | "history" {
  if (b.status === "requested") return "requested";
  if (UPCOMING.includes(b.status as BookingStatus)) return "upcoming";
  return "history";
}

/** Whole minutes from now until an instant (0 once it has passed). */
export function minutesUntil(iso: string, nowMs: number): number {
  return Math.max(0, Math.ceil((Date.parse(iso) - nowMs) / MIN_MS));
}
