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
  /** what moderation raised for this user in this call (``chat:safety``), each once, in order:
   * ``minor``, ``upsell_banner``, ``sexual_warning`` */
  safety: { flag: string; seq: number | null }[];
  /** the last notice worth showing, as an i18n key */
  notice: string | null;
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
    notice: null,
  };
}

export type CallEvent =
  | { type: "call"; call: CallObject }
  | { type: "meter"; meter: Meter }
  | { type: "notice"; call_id: string; kind: string; reason: string | null }
  | { type: "media"; call_id: string; flowing: boolean }
  | { type: "peer"; call_id: string; audio: boolean; video: boolean }
  | { type: "message"; message: ChatMessage }
  | { type: "history"; messages: ChatMessage[] }
  | { type: "warning"; call_id: string; seq: number; categories: string[] }
  | { type: "safety"; call_id: string; seq: number | null; flag: string }
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
    case "warning":
      if (event.call_id !== current) return state;
      return { ...state, warning: { seq: event.seq, categories: event.categories } };
    case "safety":
      if (event.call_id !== current || state.safety.some((x) => x.flag === event.flag)) return state;
      return { ...state, safety: [...state.safety, { flag: event.flag, seq: event.seq }] };
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

/** The other participant, as ``me`` sees the call. */
export function peerOf(call: CallObject, me: string): { id: string; nickname: string } {
  return call.customer.id === me ? call.companion : call.customer;
}
