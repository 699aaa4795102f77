// The fair service's judgement of ended sessions (GET /api/me/fairness; signaling/fair_routes.py):
// talk share (voice/video) or reply times (text), minutes found silent or unresponsive, and the
// automatic refund — the same figures for both sides, without names.
import { api, type Schema } from "./api";
import { yuan } from "./money";

export type FairSession = Schema<"FairSession">;
export type FairOut = Schema<"FairOut">;
export type FairRule = Schema<"FairRuleOut">;

/** My judged sessions as `role`: the ones named (at most 50), else the latest `limit`. */
export async function myFairness(role: "customer" | "companion", ids?: string[], limit = 20): Promise<FairOut> {
  const query: { role: "customer" | "companion"; limit: number; session_ids?: string } = { role, limit };
  if (ids && ids.length) query.session_ids = ids.slice(0, 50).join(",");
  return await api.get("/api/me/fairness", { params: { query } });
}

/** Seconds as shown: one decimal under 10 s. */
export function secondsOf(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? s.toFixed(1) : String(Math.round(s));
}

type T = (key: string, values?: Record<string, unknown>) => string;

/** The lines shown under a session: what the companion did, what was flagged, any refund. */
export function fairLines(f: FairSession, t: T): string[] {
  const lines: string[] = [];
  if (f.mode === "text") {
    lines.push(
      f.reply_median_ms === null || f.reply_p90_ms === null
        ? t("fair.no_replies")
        : t("fair.replies", {
            median: t("fair.seconds", { n: secondsOf(f.reply_median_ms) }),
            p90: t("fair.seconds", { n: secondsOf(f.reply_p90_ms) }),
          }),
    );
  } else {
    lines.push(f.talk_share_percent === null ? t("fair.nobody_spoke") : t("fair.talk_share", { pct: f.talk_share_percent }));
  }
  if (f.flagged_minutes > 0) {
    lines.push(t(f.mode === "text" ? "fair.flagged_text" : "fair.flagged_voice", { n: f.flagged_minutes, billed: f.billed_minutes }));
  }
  if (f.refund_fen > 0) lines.push(t("fair.refund", { amount: yuan(f.refund_fen) }));
  return lines;
}
