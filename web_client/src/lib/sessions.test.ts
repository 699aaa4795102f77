import { describe, expect, it } from "vitest";
import { toRow, type SessionLine } from "./pastsessions";
import { appealOpen, appealProblem, reviewProblem, toggleTag } from "./sessions";

const line = (over: Partial<SessionLine>): SessionLine => ({
  id: "call_a",
  kind: "call",
  role: "customer",
  peer: { id: "u_c", nickname: "小鹿", role: "companion", tags: [], avatar_url: null },
  mode: "voice",
  status: "ended",
  rate_fen_per_min: 300,
  billed_minutes: 2,
  charged_fen: 600,
  refunded_fen: 100,
  created_at: "2026-01-05T10:00:00Z",
  ended_at: "2026-01-05T10:02:00Z",
  end_reason: "hangup",
  ...over,
});

describe("my sessions as rows", () => {
  it("shows who, what was paid net of refunds, and when it ended", () => {
    const row = toRow(line({}))!;
    expect([row.kind, row.companion?.nickname, row.paid_fen, row.meter.billed_minutes]).toEqual(["call", "小鹿", 500, 2]);
    expect(row.ended_ms).toBe(Date.parse("2026-01-05T10:02:00Z"));
    expect(toRow(line({ id: "vrs_b", kind: "voice_room" }))!.kind).toBe("room");
  });
  it("leaves out a call never served, keeps one still running", () => {
    expect(toRow(line({ billed_minutes: 0, charged_fen: 0, refunded_fen: 0 }))).toBeNull();
    const running = toRow(line({ status: "running", billed_minutes: 0, ended_at: null }))!;
    expect([running.ended_ms, running.last_at]).toEqual([null, "2026-01-05T10:00:00Z"]);
  });
});

describe("the review form", () => {
  const tags = ["耐心", "专业", "有趣"];
  it("needs 1–5 stars, known tags, at most the maximum, text within 500", () => {
    expect(reviewProblem({ stars: 0, tags: [], text: "", anonymous: false }, tags, 5)).toBe("market.review.need_stars");
    expect(reviewProblem({ stars: 6, tags: [], text: "", anonymous: false }, tags, 5)).toBe("market.review.need_stars");
    expect(reviewProblem({ stars: 5, tags: ["耐心", "专业"], text: "", anonymous: true }, tags, 1)).toBe("market.review.too_many_tags");
    expect(reviewProblem({ stars: 5, tags: ["坏"], text: "", anonymous: false }, tags, 5)).toBe("market.review.unknown_tag");
    expect(reviewProblem({ stars: 4, tags: [], text: "x".repeat(501), anonymous: false }, tags, 5)).toBe("market.review.too_long");
    expect(reviewProblem({ stars: 4, tags: ["耐心"], text: "  很好  ", anonymous: false }, tags, 5)).toBeNull();
  });
  it("ticks tags up to the maximum", () => {
    expect(toggleTag([], "耐心", 2)).toEqual(["耐心"]);
    expect(toggleTag(["耐心", "专业"], "有趣", 2)).toEqual(["耐心", "专业"]);
    expect(toggleTag(["耐心", "专业"], "耐心", 2)).toEqual(["专业"]);
  });
});

describe("the appeal form", () => {
  it("needs a reason and 10–1000 characters", () => {
    expect(appealProblem("", "x".repeat(20))).toBe("market.appeal.need_reason");
    expect(appealProblem("rude", "  太短了  ")).toBe("market.appeal.too_short");
    expect(appealProblem("rude", "x".repeat(1001))).toBe("market.appeal.too_long");
    expect(appealProblem("overcharged", "多扣了我两分钟的钱，请核实")).toBeNull();
  });
  it("is open for 7 days after the end", () => {
    const end = Date.parse("2026-01-05T10:00:00Z");
    expect(appealOpen(end, end + 6 * 86_400_000)).toBe(true);
    expect(appealOpen(end, end + 7 * 86_400_000)).toBe(false);
    expect(appealOpen(null, end)).toBe(false);
  });
});
