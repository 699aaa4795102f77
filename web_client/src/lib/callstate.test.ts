import { describe, expect, it } from "vitest";
import { initial, merge, phase, reduce } from "./callstate";
import type { CallObject, ChatMessage } from "./types";

function call(over: Partial<CallObject> = {}): CallObject {
  return {
    call_id: "call_1",
    status: "active",
    mode: "voice",
    rate_fen_per_min: 300,
    customer: { id: "u_c", nickname: "C" },
    companion: { id: "u_p", nickname: "P" },
    created_ms: 0,
    ring_deadline_ms: 30_000,
    accepted_ms: 1000,
    accepted_device: "sid",
    ended_ms: null,
    end_reason: null,
    ended_by: null,
    away: { customer: false, companion: false },
    last_seq: 0,
    ...over,
  };
}

function msg(seq: number, text = "hi"): ChatMessage {
  return { call_id: "call_1", seq, sender_id: "u_c", client_id: "c" + seq, text, moderation: "allow", sent_ms: seq };
}

describe("call state", () => {
  it("goes from ringing to connecting to live as media flows", () => {
    let s = reduce(initial(), { type: "call", call: call({ status: "ringing", accepted_ms: null }) });
    expect(phase(s)).toBe("ringing");
    s = reduce(s, { type: "call", call: call() });
    expect(phase(s)).toBe("connecting");
    s = reduce(s, { type: "media", call_id: "call_1", flowing: true });
    expect(phase(s)).toBe("live");
    s = reduce(s, { type: "call", call: call({ status: "ended", end_reason: "hangup" }) });
    expect(phase(s)).toBe("ended");
  });

  it("pauses when the money runs out and resumes after a top-up", () => {
    let s = reduce(initial(), { type: "call", call: call({ mode: "text" }) });
    expect(phase(s)).toBe("live");
    s = reduce(s, { type: "notice", call_id: "call_1", kind: "paused", reason: "funds" });
    expect(phase(s)).toBe("paused");
    s = reduce(s, { type: "notice", call_id: "call_1", kind: "resumed", reason: null });
    expect(phase(s)).toBe("live");
  });

  it("ignores events of another call and keeps the meter's latest figures", () => {
    let s = reduce(initial(), { type: "call", call: call() });
    s = reduce(s, { type: "meter", meter: { call_id: "other", status: "x", rate_fen_per_min: 1, billed_minutes: 9 } });
    expect(s.meter).toBeNull();
    s = reduce(s, {
      type: "meter",
      meter: { call_id: "call_1", status: "running", rate_fen_per_min: 300, billed_minutes: 2, charged_fen: 600, low_balance: true },
    });
    expect(s.meter?.charged_fen).toBe(600);
    expect(s.lowBalance).toBe(true);
  });

  it("shows the peer reconnecting while they are away", () => {
    const s = reduce(initial(), { type: "call", call: call({ mode: "text", away: { customer: false, companion: true } }) });
    expect(phase(s)).toBe("reconnecting");
  });

  it("keeps each message once, in seq order", () => {
    expect(merge([msg(2), msg(1)], [msg(2, "again"), msg(3)]).map((m) => [m.seq, m.text])).toEqual([
      [1, "hi"],
      [2, "again"],
      [3, "hi"],
    ]);
    let s = reduce(initial(), { type: "call", call: call() });
    s = reduce(s, { type: "message", message: msg(1) });
    s = reduce(s, { type: "history", messages: [msg(1), msg(2), { ...msg(3), call_id: "other" }] });
    expect(s.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("starts afresh when another call begins", () => {
    let s = reduce(initial(), { type: "call", call: call() });
    s = reduce(s, { type: "message", message: msg(1) });
    s = reduce(s, { type: "call", call: call({ call_id: "call_2" }) });
    expect(s.messages).toEqual([]);
  });

  it("keeps the latest warning of its own call", () => {
    let s = reduce(initial(), { type: "call", call: call({ mode: "text" }) });
    s = reduce(s, { type: "warning", call_id: "other", seq: 1, categories: ["phone"] });
    expect(s.warning).toBeNull();
    s = reduce(s, { type: "warning", call_id: "call_1", seq: 4, categories: ["messenger_id"] });
    expect(s.warning).toEqual({ seq: 4, categories: ["messenger_id"] });
  });

  it("keeps each safety flag of its own call once, first seen first", () => {
    let s = reduce(initial(), { type: "call", call: call({ mode: "text" }) });
    s = reduce(s, { type: "safety", call_id: "other", seq: 1, flag: "minor" });
    expect(s.safety).toEqual([]);
    s = reduce(s, { type: "safety", call_id: "call_1", seq: null, flag: "sexual_warning" });
    s = reduce(s, { type: "safety", call_id: "call_1", seq: 7, flag: "upsell_banner" });
    s = reduce(s, { type: "safety", call_id: "call_1", seq: 9, flag: "upsell_banner" });
    expect(s.safety).toEqual([
      { flag: "sexual_warning", seq: null },
      { flag: "upsell_banner", seq: 7 },
    ]);
    s = reduce(s, { type: "call", call: call({ call_id: "call_2" }) });
    expect(s.safety).toEqual([]);
  });
});
