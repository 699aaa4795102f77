// What a call screen shows, folded from the server's events.  Pure: the socket layer feeds it,
// the views read it, and the unit tests drive it event by event.
import type { CallObject, ChatMessage, Meter } from "./types";

export type Phase = "idle" | "ringing" | "connecting" | "live" | "paused" | "reconnecting" | "ended";

export interface CallState {
  call: CallObject | null;
  meter: Meter | null;
  /** metering paused the session: no money for the next minute */
  fundsPaused: boolean;
  lowBalance: boolean;
  /** voice/video: media flows both ways (billed) */
  mediaFlowing: boolean;
  peerMuted: { audio: boolean; video: boolean };
  messages: ChatMessage[];
  /** the companion asked for contact details or a meeting: warn, offer one-tap report */
  warning: { seq: number; categories: string[] } | null;
  /** what moderation raised in this call (``chat:safety``), each flag once per sender, in
   * order: ``minor``, ``upsell_banner``, ``sexual_warning``; ``sender_id`` says whose message
   * it was (each side has its own words) */
  safety: { flag: string; seq: number | null; sender_id: string | null }[];
  /** why moderation masked parts of my own messages, by seq (the ``chat:send`` ack says) */
  maskedWhy: Record<number, string[]>;
  /** my messages moderation stopped (never delivered), each after the last seq seen then */
  stopped: Stopped[];
  /** the last notice worth showing, as an i18n key */
  notice: string | null;
  /** voice/video: the server said at the start that the last minutes are kept briefly for
   * safety reports (``call:safety_notice``) */
  evidenceNotice: EvidenceNotice | null;
}

export interface EvidenceNotice {
  window_s: number;
  after_call_s: number;
  retention_days: number;
}

export interface Stopped {
  client_id: string;
  text: string;
  categories: string[];
  after_seq: number;
}

export function initial(): CallState {
  return {
    call: null,
    meter: null,
    fundsPaused: false,
    lowBalance: false,
    mediaFlowing: false,
    peerMuted: { audio: false, video: false },
    messages: [],
    warning: null,
    safety: [],
    maskedWhy: {},
    stopped: [],
    notice: null,
    evidenceNotice: null,
  };
}

export type CallEvent =
  | { type: "call"; call: CallObject }
  | { type: "meter"; meter: Meter }
  | { type: "notice"; call_id: string; kind: string; reason: string | null }
  | { type: "media"; call_id: string; flowing: boolean }
  | { type: "peer"; call_id: string; audio: boolean; video: boolean }
  | { type: "message"; message: ChatMessage }
  | { type: "sent"; message: ChatMessage; categories: string[] }
  | { type: "stopped"; call_id: string; client_id: string; text: string; categories: string[] }
  | { type: "history"; messages: ChatMessage[] }
  | { type: "warning"; call_id: string; seq: number; categories: string[] }
  | { type: "safety"; call_id: string; seq: number | null; flag: string; sender_id: string | null }
  | ({ type: "evidence_notice"; call_id: string } & EvidenceNotice)
  | { type: "clear" };

export function reduce(state: CallState, event: CallEvent): CallState {
  if (event.type === "clear") return initial();
  if (event.type === "call") {
    const same = state.call?.call_id === event.call.call_id;
    const base = same ? state : initial();
    return { ...base, call: event.call };
  }
  const current = state.call?.call_id;
  switch (event.type) {
    case "meter":
      if (event.meter.call_id !== current) return state;
      return {
        ...state,
        meter: { ...state.meter, ...event.meter },
        lowBalance: event.meter.low_balance ?? state.lowBalance,
      };
    case "notice":
      if (event.call_id !== current) return state;
      if (event.kind === "paused") return { ...state, fundsPaused: true, notice: "call.notice.paused" };
      if (event.kind === "resumed") return { ...state, fundsPaused: false, notice: "call.notice.resumed" };
      if (event.kind === "low_balance") return { ...state, lowBalance: true, notice: "call.notice.low_balance" };
      return state;
    case "media":
      if (event.call_id !== current) return state;
      return { ...state, mediaFlowing: event.flowing };
    case "peer":
      if (event.call_id !== current) return state;
      return { ...state, peerMuted: { audio: event.audio, video: event.video } };
    case "message": {
      if (event.message.call_id !== current) return state;
      return { ...state, messages: merge(state.messages, [event.message]) };
    }
    case "sent": {
      if (event.message.call_id !== current) return state;
      const masked = event.message.moderation === "mask";
      return {
        ...state,
        messages: merge(state.messages, [event.message]),
        maskedWhy: masked ? { ...state.maskedWhy, [event.message.seq]: event.categories } : state.maskedWhy,
      };
    }
    case "stopped": {
      if (event.call_id !== current || state.stopped.some((x) => x.client_id === event.client_id)) return state;
      const after_seq = state.messages.length ? state.messages[state.messages.length - 1]!.seq : 0;
      const item = { client_id: event.client_id, text: event.text, categories: event.categories, after_seq };
      return { ...state, stopped: [...state.stopped, item] };
    }
    case "warning":
      if (event.call_id !== current) return state;
      return { ...state, warning: { seq: event.seq, categories: event.categories } };
    case "safety":
      if (event.call_id !== current || state.safety.some((x) => x.flag === event.flag && x.sender_id === event.sender_id)) return state;
      return { ...state, safety: [...state.safety, { flag: event.flag, seq: event.seq, sender_id: event.sender_id }] };
    case "evidence_notice":
      if (event.call_id !== current) return state;
      return {
        ...state,
        evidenceNotice: { window_s: event.window_s, after_call_s: event.after_call_s, retention_days: event.retention_days },
      };
    case "history":
      return { ...state, messages: merge(state.messages, event.messages.filter((m) => m.call_id === current)) };
  }
  return state;
}

/** Messages by seq, each once (a resend or a history page may repeat some). */
export function merge(have: ChatMessage[], more: ChatMessage[]): ChatMessage[] {
  const bySeq = new Map<number, ChatMessage>();
  for (const m of have) bySeq.set(m.seq, m);
  for (const m of more) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export function phase(state: CallState): Phase {
  const call = state.call;
  if (!call) return "idle";
  if (call.status === "ended") return "ended";
  if (call.status === "ringing") return "ringing";
  if (state.fundsPaused) return "paused";
  if (call.away.customer || call.away.companion) return "reconnecting";
  if (call.mode === "text") return "live";
  return state.mediaFlowing ? "live" : "connecting";
}

export type Line =
  | { kind: "message"; key: string; message: ChatMessage; masked: string[] | null }
  | { kind: "stopped"; key: string; stopped: Stopped };

/** The conversation as the page shows it: the messages in order, and each of my stopped ones
 * where I sent it (after the last message I had seen).  ``masked``: why moderation masked a
 * message of mine (``[]`` when the page does not know why: a reloaded page). */
export function timeline(state: CallState, me: string): Line[] {
  const out: Line[] = [];
  const stopped = [...state.stopped];
  const flush = (upTo: number) => {
    while (stopped.length && stopped[0]!.after_seq <= upTo) {
      const s = stopped.shift()!;
      out.push({ kind: "stopped", key: `x-${s.client_id}`, stopped: s });
    }
  };
  flush(0);
  for (const m of state.messages) {
    const mine = m.sender_id === me && m.moderation === "mask";
    out.push({ kind: "message", key: `m-${m.seq}`, message: m, masked: mine ? (state.maskedWhy[m.seq] ?? []) : null });
    flush(m.seq);
  }
  flush(Infinity);
  return out;
}

/** The i18n key of a safety banner as ``me`` reads it: the customer is protected, the companion
 * whose message raised it is reminded of the rules; ``minor`` reads the same for both. */
export function safetyWords(flag: string, senderId: string | null, me: string): string {
  return senderId === me && flag !== "minor" ? `call.safety_sender.${flag}` : `call.safety.${flag}`;
}

/** A banner offers a one-tap report only about the other side's message. */
export function safetyReportable(flag: string, senderId: string | null, me: string): boolean {
  return flag !== "minor" && senderId !== me;
}

/** The other participant, as ``me`` sees the call. */
export function peerOf(call: CallObject, me: string): { id: string; nickname: string } {
  return call.customer.id === me ? call.companion : call.customer;
}
