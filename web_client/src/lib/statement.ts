// Statement lines and earnings figures in words (pure: each function answers an i18n key and
// its parameters; the view translates).  A line is one session, booking, top-up, package or
// coupon, or a refund of a session (GET /api/wallet/statement, /api/me/earnings): its amount is
// already the net of every hold, capture and release it stands for, so nothing here adds money up.
import type { Schema } from "./api";
import { yuan } from "./money";

export type Line = Schema<"StatementItem">;
export type Problem = [string, Record<string, string>];

/** How the caller words a mode and a moment (China time, the page's language). */
export interface Words {
  mode: (mode: string) => string;
  when: (iso: string) => string;
  hidden: () => string;
}

function who(line: Line, w: Words): string {
  if (line.counterpart_hidden) return w.hidden();
  return line.counterpart?.nickname ?? "";
}

/** What the line was: "语音通话 · 晚晚 · 13 分钟 × ¥3.00/分钟". */
export function lineTitle(line: Line, w: Words): Problem {
  const mode = line.mode ? w.mode(line.mode) : "";
  const minutes = String(line.minutes ?? 0);
  const rate = yuan(line.rate_fen_per_min ?? 0);
  switch (line.kind) {
    case "session":
      return [line.session_kind === "voice_room" ? "money.line.room" : "money.line.call", { mode, who: who(line, w), minutes, rate }];
    case "booking":
      return ["money.line.booking", { mode, who: who(line, w), minutes }];
    case "package":
      return line.counterpart || line.counterpart_hidden
        ? ["money.line.package_of", { mode, who: who(line, w), minutes }]
        : ["money.line.package", { mode, minutes }];
    case "refund":
      return line.session_id && line.mode ? ["money.line.refund_of", { mode, who: who(line, w) }] : ["money.line.refund", {}];
    case "topup":
    case "coupon":
      return [`money.line.${line.kind}`, {}];
    default:
      return ["money.line.other", { kind: line.kind }];
  }
}

/** The notes under a customer's line: money still held, what was refunded of it (each refund
 * is a line of its own, dated when it was made), why a refund line was given, package minutes. */
export function customerNotes(line: Line): Problem[] {
  const notes: Problem[] = [];
  if (line.kind === "refund" && line.refund_source) notes.push([`money.line.refund_source.${line.refund_source}`, {}]);
  if (line.kind === "session" && line.status !== "ended" && line.unsettled_fen > 0) {
    notes.push(["money.line.running", { held: yuan(line.unsettled_fen) }]);
  }
  const refunded = line.refunded_fen ?? 0;
  if (refunded > 0) notes.push(["money.line.refunded", { amount: yuan(refunded) }]);
  if (line.kind === "session" && line.amount_fen === 0 && (line.minutes ?? 0) > 0) notes.push(["money.line.package_paid", {}]);
  return notes;
}

/** The note under a companion's line: when its pending part becomes withdrawable. */
export function earningNote(line: Line, w: Words, holdHours: number): Problem | null {
  if (line.unsettled_fen <= 0) return null;
  if (line.release_at) return ["money.line.pending_until", { at: w.when(line.release_at) }];
  return ["money.line.pending_running", { hours: String(holdHours) }];
}

/** A signed amount: "+¥150.00", "-¥39.00". */
export function signed(fen: number): string {
  return fen > 0 ? `+${yuan(fen)}` : yuan(fen);
}

/** Why a withdrawal was refused, from the refusal's details (earnings_on_hold,
 * insufficient_earnings); null for any other refusal (the generic wording applies). */
export function withdrawRefusal(code: string, details: Record<string, unknown>, w: Words): Problem | null {
  const fen = (k: string): string => yuan(typeof details[k] === "number" ? (details[k] as number) : 0);
  const base = { available: fen("available_fen"), pending: fen("pending_fen"), hours: String(details.hold_hours ?? 72) };
  if (code === "earnings_on_hold") {
    const next = details.next_release_at;
    return typeof next === "string"
      ? ["money.earnings.on_hold", { ...base, next: w.when(next), next_amount: fen("next_release_fen") }]
      : ["money.earnings.on_hold_no_date", base];
  }
  if (code === "insufficient_earnings") return ["money.earnings.insufficient", base];
  return null;
}
