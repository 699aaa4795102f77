import { describe, expect, it } from "vitest";
import { initial, merge, phase, reduce, safetyReportable, safetyWords, timeline } from "./callstate";
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
    s = reduce(s, { type: "safety", call_id: "other", seq: 1, flag: "minor", sender_id: "u_c" });
    expect(s.safety).toEqual([]);
    s = reduce(s, { type: "safety", call_id: "call_1", seq: null, flag: "sexual_warning", sender_id: "u_p" });
    s = reduce(s, { type: "safety", call_id: "call_1", seq: 7, flag: "upsell_banner", sender_id: "u_p" });
    s = reduce(s, { type: "safety", call_id: "call_1", seq: 9, flag: "upsell_banner", sender_id: "u_p" });
    s = reduce(s, { type: "safety", call_id: "call_1", seq: 10, flag: "minor", sender_id: "u_c" });
    s = reduce(s, { type: "safety", call_id: "call_1", seq: 11, flag: "minor", sender_id: "u_p" });
    expect(s.safety).toEqual([
      { flag: "sexual_warning", seq: null, sender_id: "u_p" },
      { flag: "upsell_banner", seq: 7, sender_id: "u_p" },
      { flag: "minor", seq: 10, sender_id: "u_c" },
      { flag: "minor", seq: 11, sender_id: "u_p" },
    ]);
    s = reduce(s, { type: "call", call: call({ call_id: "call_2" }) });
    expect(s.safety).toEqual([]);
  });

  it("keeps the safety-evidence notice of its own call only", () => {
    let s = reduce(initial(), { type: "call", call: call({ mode: "voice" }) });
    const notice = { window_s: 120, after_call_s: 600, retention_days: 30 };
    s = reduce(s, { type: "evidence_notice", call_id: "other", ...notice });
    expect(s.evidenceNotice).toBeNull();
    s = reduce(s, { type: "evidence_notice", call_id: "call_1", ...notice });
    expect(s.evidenceNotice).toEqual(notice);
    s = reduce(s, { type: "call", call: call({ call_id: "call_2" }) });
    expect(s.evidenceNotice).toBeNull();
  });

  it("tells the customer they are protected and reminds the companion who sent it of the rules", () => {
    expect(safetyWords("sexual_warning", "u_p", "u_c")).toBe("call.safety.sexual_warning");
    expect(safetyWords("sexual_warning", "u_p", "u_p")).toBe("call.safety_sender.sexual_warning");
    expect(safetyWords("upsell_banner", "u_p", "u_p")).toBe("call.safety_sender.upsell_banner");
    expect(safetyWords("minor", "u_c", "u_c")).toBe("call.safety.minor");
    expect(safetyWords("minor", "u_c", "u_p")).toBe("call.safety.minor");
    expect(safetyReportable("upsell_banner", "u_p", "u_c")).toBe(true);
    expect(safetyReportable("upsell_banner", "u_p", "u_p")).toBe(false);
    expect(safetyReportable("minor", "u_c", "u_p")).toBe(false);
  });

  it("tells the sender why their message was masked, and shows a stopped one where it was sent", () => {
    let s = reduce(initial(), { type: "call", call: call({ mode: "text" }) });
    s = reduce(s, { type: "message", message: msg(1) });
    const masked = { ...msg(2, "call me ****"), sender_id: "u_p", moderation: "mask" };
    s = reduce(s, { type: "sent", message: masked, categories: ["phone"] });
    s = reduce(s, { type: "stopped", call_id: "call_1", client_id: "x1", text: "blocked words", categories: ["sexual"] });
    s = reduce(s, { type: "stopped", call_id: "call_1", client_id: "x1", text: "blocked words", categories: ["sexual"] });
    s = reduce(s, { type: "stopped", call_id: "other", client_id: "x2", text: "elsewhere", categories: [] });
    s = reduce(s, { type: "message", message: msg(3) });
    const lines = timeline(s, "u_p");
    expect(lines.map((l) => l.key)).toEqual(["m-1", "m-2", "x-x1", "m-3"]);
    expect(lines[1]).toMatchObject({ kind: "message", masked: ["phone"] });
    expect(lines[0]).toMatchObject({ kind: "message", masked: null });
    expect(lines[2]).toMatchObject({ kind: "stopped", stopped: { text: "blocked words", categories: ["sexual"] } });
    // the other side sees the masked message as it is, with no notice of why
    expect(timeline(s, "u_c")[1]).toMatchObject({ kind: "message", masked: null });
    // a page reloaded since does not know why, but still says it was masked
    const again = reduce(reduce(initial(), { type: "call", call: call({ mode: "text" }) }), { type: "history", messages: [masked] });
    expect(timeline(again, "u_p")[0]).toMatchObject({ kind: "message", masked: [] });
  });
});
