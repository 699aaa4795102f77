import { describe, expect, it } from "vitest";
import { fairLines, secondsOf, type FairSession } from "./fairness";

const t = (key: string, v: Record<string, unknown> = {}) => `${key}${JSON.stringify(v)}`;

function session(over: Partial<FairSession>): FairSession {
  return {
    session_id: "call_x", mode: "voice", decided: true, billed_minutes: 4, flagged_minutes: 0,
    talk_share_percent: 60, companion_voiced_ms: 60_000, customer_voiced_ms: 40_000,
    reply_count: 0, reply_median_ms: null, reply_p90_ms: null, refund_fen: 0, decided_at: null,
    ...over,
  };
}

describe("fairness lines", () => {
  it("shows a talking companion's share and nothing else", () => {
    expect(fairLines(session({}), t)).toEqual(['fair.talk_share{"pct":60}']);
  });
  it("shows silent minutes and the automatic refund", () => {
    const lines = fairLines(session({ talk_share_percent: null, flagged_minutes: 4, refund_fen: 600 }), t);
    expect(lines).toEqual(["fair.nobody_spoke{}", 'fair.flagged_voice{"n":4,"billed":4}', 'fair.refund{"amount":"¥6.00"}']);
  });
  it("shows reply times for text, or that none came", () => {
    const text = session({ mode: "text", talk_share_percent: null, reply_count: 3, reply_median_ms: 8_500, reply_p90_ms: 42_000 });
    expect(fairLines(text, t)[0]).toBe('fair.replies{"median":"fair.seconds{\\"n\\":\\"8.5\\"}","p90":"fair.seconds{\\"n\\":\\"42\\"}"}');
    expect(fairLines(session({ mode: "text", flagged_minutes: 2 }), t)).toEqual(["fair.no_replies{}", 'fair.flagged_text{"n":2,"billed":4}']);
  });
  it("rounds seconds", () => {
    expect([secondsOf(940), secondsOf(12_400)]).toEqual(["0.9", "12"]);
  });
});
