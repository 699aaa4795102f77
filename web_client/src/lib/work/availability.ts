// A companion's weekly availability as the editor handles it: ranges of one weekday (0 = Monday)
// in China time, on the half hour, "24:00" ending the day (bookings/calendar.py).  The server
// refuses overlaps; the editor merges overlapping and touching ranges of a day before saving,
// since together they mean the same hours.
import type { WeeklyRange } from "./types";

export const SLOT_MIN = 30;
export const DAY_MIN = 24 * 60;
export const MAX_RANGES = 28;
export const CELLS_PER_DAY = DAY_MIN / SLOT_MIN;

export function toMinutes(hhmm: string): number | null {
  const m = /^(\d\d):(\d\d)$/.exec(hhmm);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min >= 60) return null;
  const v = h * 60 + min;
  if (v > DAY_MIN || v % SLOT_MIN) return null;
  return v;
}

export function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** Every choice of a time select: "00:00", "00:30", …, "24:00". */
export function timeOptions(): string[] {
  const out: string[] = [];
  for (let m = 0; m <= DAY_MIN; m += SLOT_MIN) out.push(hhmm(m));
  return out;
}

export type RangeProblem = "bad_time" | "end_before_start";

/** Why one range cannot be saved, or null. */
export function rangeProblem(r: WeeklyRange): RangeProblem | null {
  const start = toMinutes(r.start);
  const end = toMinutes(r.end);
  if (start === null || end === null || r.weekday < 0 || r.weekday > 6) return "bad_time";
  if (end <= start) return "end_before_start";
  return null;
}

/** The ranges sorted by day and start, overlapping or touching ones of a day merged.  Invalid
 * ranges are dropped: check them with ``rangeProblem`` first. */
export function normalize(ranges: readonly WeeklyRange[]): WeeklyRange[] {
  const spans = ranges
    .filter((r) => rangeProblem(r) === null)
    .map((r) => ({ weekday: r.weekday, start: toMinutes(r.start)!, end: toMinutes(r.end)! }))
    .sort((a, b) => a.weekday - b.weekday || a.start - b.start || a.end - b.end);
  const out: { weekday: number; start: number; end: number }[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && last.weekday === s.weekday && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out.map((s) => ({ weekday: s.weekday, start: hhmm(s.start), end: hhmm(s.end) }));
}

/** Which half-hour cells of a day the ranges cover (48 booleans, from 00:00). */
export function dayCells(ranges: readonly WeeklyRange[], weekday: number): boolean[] {
  const cells = new Array<boolean>(CELLS_PER_DAY).fill(false);
  for (const r of ranges) {
    if (r.weekday !== weekday || rangeProblem(r)) continue;
    for (let m = toMinutes(r.start)!; m < toMinutes(r.end)!; m += SLOT_MIN) cells[m / SLOT_MIN] = true;
  }
  return cells;
}

/** Hours offered in a week (after merging). */
export function weeklyHours(ranges: readonly WeeklyRange[]): number {
  return normalize(ranges).reduce((sum, r) => sum + (toMinutes(r.end)! - toMinutes(r.start)!), 0) / 60;
}

/** A new range for a day: two hours after the day's last range (or 20:00–22:00), within the day. */
export function suggestRange(ranges: readonly WeeklyRange[], weekday: number): WeeklyRange {
  const ends = ranges.filter((r) => r.weekday === weekday && !rangeProblem(r)).map((r) => toMinutes(r.end)!);
  const from = ends.length ? Math.max(...ends) : 20 * 60;
  const start = Math.min(from, DAY_MIN - SLOT_MIN);
  const end = Math.min(start + 120, DAY_MIN);
  return { weekday, start: hhmm(start), end: hhmm(end) };
}

/** The ranges of ``from`` copied to every day in ``to`` (their own ranges replaced). */
export function copyDay(ranges: readonly WeeklyRange[], from: number, to: readonly number[]): WeeklyRange[] {
  const source = ranges.filter((r) => r.weekday === from);
  const kept = ranges.filter((r) => !to.includes(r.weekday) || r.weekday === from);
  const copies = to.filter((d) => d !== from).flatMap((d) => source.map((r) => ({ ...r, weekday: d })));
  return [...kept, ...copies].sort((a, b) => a.weekday - b.weekday || (toMinutes(a.start) ?? 0) - (toMinutes(b.start) ?? 0));
}

/** Same hours, whatever the order or split of the ranges. */
export function sameWeek(a: readonly WeeklyRange[], b: readonly WeeklyRange[]): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}
