import { describe, expect, it } from "vitest";
import { boundsFor, certificateCategories, draftProblems, introLength, parseMissing, rateProblems, ratesFen, toggleSpecialty, yuanText } from "./application";
import type { LevelInfo, ModeBounds } from "./types";

const normal: ModeBounds = { text: { min_fen: 50, max_fen: 200 }, voice: { min_fen: 50, max_fen: 500 }, video: { min_fen: 50, max_fen: 1000 } };
const specialist: ModeBounds = { text: { min_fen: 50, max_fen: 400 }, voice: { min_fen: 50, max_fen: 1000 }, video: { min_fen: 50, max_fen: 2000 } };
const level = (name: string, factor: number): LevelInfo => ({
  name,
  label: name,
  thresholds: { min_minutes: 0, min_reviews: 0, min_rating_x100: 0 },
  commission_bp: 3000,
  rate_bounds: {
    normal: { text: { min_fen: 50, max_fen: 200 * factor }, voice: { min_fen: 50, max_fen: 500 * factor }, video: { min_fen: 50, max_fen: 1000 * factor } },
    specialist: { text: { min_fen: 50, max_fen: 400 * factor }, voice: { min_fen: 50, max_fen: 1000 * factor }, video: { min_fen: 50, max_fen: 2000 * factor } },
  },
});
const levels = [level("newcomer", 1), level("senior", 2)];
const limits = { max_specialties: 5, intro_min_chars: 20, intro_max_chars: 500 };

describe("the application form", () => {
  it("counts the intro as the server does: code points of the trimmed NFC text", () => {
    expect(introLength("  你好  ")).toBe(2);
    expect(introLength("😀a")).toBe(2);
    expect(introLength("e\u0301")).toBe(1); // é composed by NFC
  });

  it("adds specialties up to the limit and removes them", () => {
    let chosen: string[] = [];
    for (const s of ["a", "b", "c"]) chosen = toggleSpecialty(chosen, s, 2);
    expect(chosen).toEqual(["a", "b"]);
    expect(toggleSpecialty(chosen, "a", 2)).toEqual(["b"]);
  });

  it("asks for certificates of the specialist categories chosen", () => {
    expect(certificateCategories(["闲聊", "心理咨询", "外语陪练"], ["外语陪练", "心理咨询"])).toEqual(["心理咨询", "外语陪练"]);
  });

  it("takes the bounds of my level, newcomer when unknown, specialist when certified", () => {
    expect(boundsFor(levels, null, false)).toEqual(normal);
    expect(boundsFor(levels, "newcomer", true)).toEqual(specialist);
    expect(boundsFor(levels, "senior", false)?.voice.max_fen).toBe(1000);
    expect(boundsFor([], null, false)).toBeNull();
  });

  it("finds rates that are not money, out of bounds or out of order", () => {
    expect(rateProblems({ text: "1", voice: "2", video: "4" }, normal)).toEqual([]);
    expect(rateProblems({ text: "abc", voice: "2", video: "4" }, normal)).toEqual([{ mode: "text", code: "invalid" }]);
    expect(rateProblems({ text: "0.3", voice: "2", video: "11" }, normal)).toEqual([
      { mode: "text", code: "low", min_fen: 50, max_fen: 200 },
      { mode: "video", code: "high", min_fen: 50, max_fen: 1000 },
    ]);
    expect(rateProblems({ text: "2", voice: "1", video: "0.5" }, normal)).toEqual([
      { mode: "voice", code: "order" },
      { mode: "video", code: "order" },
    ]);
    expect(rateProblems({ text: "0", voice: "1", video: "1" }, null)).toEqual([{ mode: "text", code: "invalid" }]);
  });

  it("lists every problem of a draft in form order", () => {
    const form = { specialties: [], intro: "短", rates: { text: "3", voice: "2", video: "4" } };
    expect(draftProblems(form, limits, normal).map((p) => p[0])).toEqual(["no_specialty", "intro_length", "rate_bounds", "rate_order_voice"]);
    const good = { specialties: ["闲聊"], intro: "我".repeat(20), rates: { text: "1", voice: "2", video: "4" } };
    expect(draftProblems(good, limits, normal)).toEqual([]);
  });

  it("turns typed yuan into fen and back", () => {
    expect(ratesFen({ text: "1.5", voice: "2", video: "¥4.05" })).toEqual({ text_fen_per_min: 150, voice_fen_per_min: 200, video_fen_per_min: 405 });
    expect(ratesFen({ text: "", voice: "2", video: "4" })).toBeNull();
    expect(yuanText(150)).toBe("1.50");
  });

  it("reads what the server says is missing", () => {
    expect(parseMissing("voice_sample")).toEqual({ kind: "voice_sample" });
    expect(parseMissing("certificate:心理咨询")).toEqual({ kind: "certificate", category: "心理咨询" });
    expect(parseMissing("something")).toEqual({ kind: "other", item: "something" });
  });
});
