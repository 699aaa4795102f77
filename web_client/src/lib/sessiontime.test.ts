import { describe, expect, it } from "vitest";
import { clockOffsetMs, elapsedMs } from "./sessiontime";
import type { CallObject } from "./types";

const call = (over: Partial<CallObject> = {}): CallObject => ({
  call_id: "call_1",
  status: "active",
  mode: "voice",
  rate_fen_per_min: 300,
  customer: { id: "u_c", nickname: "C" },
  companion: { id: "u_p", nickname: "P" },
  created_ms: 1_000_000,
  ring_deadline_ms: 1_030_000,
  accepted_ms: 1_005_000,
  accepted_device: "sid",
  ended_ms: null,
  end_reason: null,
  ended_by: null,
  away: { customer: false, companion: false },
  last_seq: 0,
  ...over,
});

describe("session time", () => {
  it("counts from the server's start on the server's clock, whatever this page's clock says", () => {
    // this page's clock is 40 s behind the server's
    const offset = clockOffsetMs(1_100_000, 1_060_000);
    expect(offset).toBe(40_000);
    // 109 s after the start by the server's clock: 1:49 on every page
    expect(elapsedMs(call(), 1_074_000, offset)).toBe(109_000);
    // a page whose clock is right shows the same at the same moment
    expect(elapsedMs(call(), 1_114_000, 0)).toBe(109_000);
  });

  it("does not restart when the page is opened again", () => {
    const offset = clockOffsetMs(1_200_000, 1_200_500);
    expect(elapsedMs(call(), 1_200_500, offset)).toBe(195_000);
  });

  it("has no time before an answer, the whole length once ended, and never below zero", () => {
    expect(elapsedMs(call({ status: "ringing", accepted_ms: null }), 2_000_000, 0)).toBeNull();
    expect(elapsedMs(call({ status: "ended", ended_ms: 1_065_000 }), 9_999_999, 0)).toBe(60_000);
    expect(elapsedMs(call(), 1_000_000, 0)).toBe(0);
  });
});
