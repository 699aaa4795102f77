// My past sessions (GET /api/me/sessions: 1:1 calls and group voice-room seats, newest first),
// in the shape the history and support screens show.
import { api, type Schema } from "./api";
import type { Meter } from "./market";
import type { PastSession } from "./sessions";

/** One line of GET /api/me/sessions (metering/history.py). */
/** One line of GET /api/me/sessions (metering/history.py). */
export type SessionLine = Schema<"SessionLine">;

export interface SessionRow extends PastSession {
  meter: Meter;
  companion: { id: string; nickname: string } | null;
  mode: string;
  started_ms: number | null;
  ended_ms: number | null;
}

/** A line as a row; null when it was never served (a call not answered). */
export function toRow(l: SessionLine): SessionRow | null {
  if (l.status === "ended" && l.billed_minutes === 0) return null;
  return {
    id: l.id,
    kind: l.kind === "voice_room" ? "room" : "call",
    last_at: l.ended_at ?? l.created_at,
    paid_fen: l.charged_fen - l.refunded_fen,
    meter: {
      session_id: l.id,
      status: l.status,
      mode: l.mode,
      rate_fen_per_min: l.rate_fen_per_min,
      billed_minutes: l.billed_minutes,
      charged_fen: l.charged_fen,
      refunded_fen: l.refunded_fen,
      balance_fen: 0,
      package_minutes: 0,
      minutes_left: 0,
      low_balance: false,
      earned_fen: 0,
      end_reason: l.end_reason,
    },
    companion: l.peer,
    mode: l.mode,
    started_ms: Date.parse(l.created_at),
    ended_ms: l.ended_at ? Date.parse(l.ended_at) : null,
  };
}

/** My sessions as a customer, newest first: one page and the cursor of the next. */
export async function mySessions(cursor: string | null, limit = 20): Promise<{ rows: SessionRow[]; next: string | null }> {
  const page = await api.get("/api/me/sessions", { params: { query: { role: "customer", limit, cursor } } });
  return { rows: page.sessions.map(toRow).filter((r): r is SessionRow => r !== null), next: page.next_cursor };
}
