import { describe, expect, it } from "vitest";
import { customerNotes, earningNote, lineTitle, signed, withdrawRefusal, type Line, type Words } from "./statement";

const words: Words = {
  mode: (m) => ({ voice: "语音", text: "文字", video: "视频" })[m] ?? m,
  when: (iso) => `@${iso.slice(0, 10)}`,
  hidden: () => "已屏蔽的用户",
};

function line(over: Partial<Line>): Line {
  return {
    key: "call_1",
    kind: "session",
    at: "2026-01-01T00:00:00Z",
    amount_fen: -3900,
    unsettled_fen: 0,
    session_id: "call_1",
    session_kind: "call",
    status: "ended",
    mode: "voice",
    minutes: 13,
    rate_fen_per_min: 300,
    refunded_fen: 0,
    counterpart: { id: "u_1", nickname: "晚晚", role: "companion", tags: [], avatar_url: null },
    counterpart_hidden: false,
    release_at: null,
    ...over,
  } as Line;
}

describe("statement lines", () => {
  it("words a call as one line: mode, who, minutes and rate", () => {
    expect(lineTitle(line({}), words)).toEqual(["money.line.call", { mode: "语音", who: "晚晚", minutes: "13", rate: "¥3.00" }]);
    expect(signed(-3900)).toBe("-¥39.00");
    expect(signed(15000)).toBe("+¥150.00");
    expect(signed(0)).toBe("¥0.00");
  });
  it("never names a hidden counterpart", () => {
    const hidden = line({ counterpart: null, counterpart_hidden: true });
    expect(lineTitle(hidden, words)[1].who).toBe("已屏蔽的用户");
    expect(lineTitle(line({ session_kind: "voice_room" }), words)[0]).toBe("money.line.room");
  });
  it("words top-ups, coupons, packages and unknown kinds", () => {
    expect(lineTitle(line({ kind: "topup", counterpart: null }), words)).toEqual(["money.line.topup", {}]);
    expect(lineTitle(line({ kind: "coupon", counterpart: null }), words)).toEqual(["money.line.coupon", {}]);
    expect(lineTitle(line({ kind: "package", counterpart: null, minutes: 60 }), words)).toEqual(["money.line.package", { mode: "语音", minutes: "60" }]);
    expect(lineTitle(line({ kind: "fee", counterpart: null }), words)).toEqual(["money.line.other", { kind: "fee" }]);
  });
  it("says what a running call holds and what a refund gave back", () => {
    expect(customerNotes(line({ status: "running", unsettled_fen: 300, amount_fen: -600 }))).toEqual([["money.line.running", { held: "¥3.00" }]]);
    expect(customerNotes(line({ refunded_fen: 500, amount_fen: -3400 }))).toEqual([["money.line.refunded", { amount: "¥5.00" }]]);
    expect(customerNotes(line({ amount_fen: 0 }))).toEqual([["money.line.package_paid", {}]]);
    // a refund is a line of its own: which session, and why
    const refund = line({ kind: "refund", amount_fen: 500, refund_source: "fair", minutes: null, rate_fen_per_min: null });
    expect(lineTitle(refund, words)).toEqual(["money.line.refund_of", { mode: "语音", who: "晚晚" }]);
    expect(customerNotes(refund)).toEqual([["money.line.refund_source.fair", {}]]);
    expect(lineTitle(line({ kind: "refund", session_id: null, mode: null }), words)).toEqual(["money.line.refund", {}]);
    expect(customerNotes(line({}))).toEqual([]);
  });
  it("tells a companion when pending earnings become withdrawable", () => {
    expect(earningNote(line({ unsettled_fen: 1400, release_at: "2026-01-07T00:00:00Z" }), words, 72)).toEqual(["money.line.pending_until", { at: "@2026-01-07" }]);
    expect(earningNote(line({ unsettled_fen: 1400, status: "running" }), words, 72)).toEqual(["money.line.pending_running", { hours: "72" }]);
    expect(earningNote(line({ unsettled_fen: 0 }), words, 72)).toBeNull();
  });
  it("explains a refused withdrawal with the withdrawable amount and the next release", () => {
    const details = { available_fen: 1450, pending_fen: 2000, hold_hours: 72, next_release_at: "2026-01-07T08:00:00+00:00", next_release_fen: 2000 };
    expect(withdrawRefusal("earnings_on_hold", details, words)).toEqual([
      "money.earnings.on_hold",
      { available: "¥14.50", pending: "¥20.00", hours: "72", next: "@2026-01-07", next_amount: "¥20.00" },
    ]);
    expect(withdrawRefusal("earnings_on_hold", { ...details, next_release_at: null }, words)?.[0]).toBe("money.earnings.on_hold_no_date");
    expect(withdrawRefusal("insufficient_earnings", details, words)?.[0]).toBe("money.earnings.insufficient");
    expect(withdrawRefusal("earnings_frozen", details, words)).toBeNull();
  });
});
