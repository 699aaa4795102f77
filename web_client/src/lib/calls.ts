// The call store: the current call's state (folded by callstate.reduce from server events), the
// media link of a voice/video call, and the actions a person takes.
import { reactive, ref } from "vue";
import { initial, reduce, type CallEvent, type CallState } from "./callstate";
import { MediaLink } from "./media";
import { AckError, ask, on } from "./realtime";
import type { CallObject, ChatMessage, Mode } from "./types";

export const current = reactive<{ state: CallState }>({ state: initial() });
/** calls ringing this companion (every device shows them until one answers) */
export const incoming = ref<CallObject[]>([]);
export const media = ref<MediaLink | null>(null);
export const mediaState = ref<RTCPeerConnectionState | "idle">("idle");

function apply(event: CallEvent): void {
  current.state = reduce(current.state, event);
  const call = current.state.call;
  if (call?.status === "ended") stopMedia();
}

let wired = false;

export function wire(me: () => string | null): void {
  if (wired) return;
  wired = true;
  on("session:hello", (d: { call: CallObject | null }) => {
    if (d.call) {
      adopt(d.call, me());
      void catchUp(d.call.call_id);
    }
  });
  on("call:incoming", (c: CallObject) => {
    incoming.value = [...incoming.value.filter((x) => x.call_id !== c.call_id), c];
  });
  on("call:ring_stop", (c: CallObject) => {
    incoming.value = incoming.value.filter((x) => x.call_id !== c.call_id);
  });
  on("call:update", (c: CallObject) => {
    if (c.status !== "ringing") incoming.value = incoming.value.filter((x) => x.call_id !== c.call_id);
    if (current.state.call?.call_id === c.call_id || (c.status === "active" && c.accepted_device === socketId())) {
      adopt(c, me());
    }
  });
  on("session:meter", (m) => apply({ type: "meter", meter: m }));
  on("session:notice", (n) => apply({ type: "notice", call_id: n.call_id, kind: n.kind, reason: n.reason }));
  on("media:state", (d) => apply({ type: "media", call_id: d.call_id, flowing: d.flowing }));
  on("media:peer", (d) => apply({ type: "peer", call_id: d.call_id, audio: d.audio, video: d.video }));
  on("chat:message", (m: ChatMessage) => apply({ type: "message", message: m }));
  on("chat:warning", (w) => apply({ type: "warning", call_id: w.call_id, seq: w.seq, categories: w.categories }));
  on("chat:safety", (x) => apply({ type: "safety", call_id: x.call_id, seq: x.seq, flag: x.flag, sender_id: x.sender_id ?? null }));
  on("call:safety_notice", (n) => apply({ type: "evidence_notice", ...n }));
}

let sid: () => string | undefined = () => undefined;
export function setSocketId(f: () => string | undefined): void {
  sid = f;
}
function socketId(): string | undefined {
  return sid();
}

function adopt(call: CallObject, me: string | null): void {
  apply({ type: "call", call });
  if (call.status === "active" && call.mode !== "text" && !media.value && me) startMedia(call);
}

/** The media link of a call still ringing (the caller's) or being accepted (the companion's
 * device that answers): it fetches the ICE servers and opens the microphone and camera
 * meanwhile, so the accepted call offers at once. */
let warm: MediaLink | null = null;

function warmUp(call: Pick<CallObject, "call_id" | "mode">): void {
  if (call.mode === "text" || warm?.callId === call.call_id || media.value) return;
  warm?.close();
  warm = linkFor(call);
  warm.prepare().catch(() => {}); // start() asks again
}

function linkFor(call: Pick<CallObject, "call_id" | "mode">): MediaLink {
  return new MediaLink(call.call_id, call.mode, (s) => (mediaState.value = s));
}

function startMedia(call: CallObject): void {
  const link = warm?.callId === call.call_id ? warm : linkFor(call);
  if (warm !== link) warm?.close();
  warm = null;
  media.value = link;
  mediaState.value = "new";
  link.start().catch((e) => {
    console.warn("media failed", e);
    mediaState.value = "failed";
  });
}

function stopMedia(): void {
  warm?.close();
  warm = null;
  media.value?.close();
  media.value = null;
  mediaState.value = "idle";
}

async function catchUp(callId: string): Promise<void> {
  try {
    const out = await ask<{ messages: ChatMessage[] }>("chat:history", { call_id: callId, limit: 100 });
    apply({ type: "history", messages: out.messages });
  } catch {
    /* history is a convenience; live messages still arrive */
  }
}

export async function startCall(companionId: string, mode: Mode, me: string): Promise<CallObject> {
  const out = await ask<{ call: CallObject }>("call:request", {
    companion_id: companionId,
    mode,
    request_id: crypto.randomUUID().replace(/-/g, ""),
  });
  if (out.call.status === "ringing") warmUp(out.call);
  adopt(out.call, me);
  return out.call;
}

export async function accept(callId: string, me: string): Promise<CallObject> {
  const ringing = incoming.value.find((x) => x.call_id === callId);
  if (ringing) warmUp(ringing);
  let out: { call: CallObject };
  try {
    out = await ask<{ call: CallObject }>("call:accept", { call_id: callId });
  } catch (e) {
    if (warm?.callId === callId) {
      warm.close();
      warm = null;
    }
    throw e;
  }
  incoming.value = incoming.value.filter((x) => x.call_id !== callId);
  adopt(out.call, me);
  return out.call;
}

export async function decline(callId: string): Promise<void> {
  incoming.value = incoming.value.filter((x) => x.call_id !== callId);
  await ask("call:decline", { call_id: callId });
}

export async function hangup(me: string): Promise<void> {
  const call = current.state.call;
  if (!call || call.status === "ended") return;
  let event = "call:hangup";
  if (call.status === "ringing") event = call.customer.id === me ? "call:cancel" : "call:decline";
  const out = await ask<{ call: CallObject }>(event, { call_id: call.call_id });
  apply({ type: "call", call: out.call });
}

/** Send one chat message.  A masked one comes back with why (shown to the sender); one
 * moderation stopped is kept on this page as stopped, with why, and is not an error. */
export async function send(text: string): Promise<void> {
  const call = current.state.call;
  if (!call) return;
  const clientId = crypto.randomUUID().replace(/-/g, "");
  try {
    const out = await ask<{ message: ChatMessage; categories?: string[] }>("chat:send", {
      call_id: call.call_id,
      client_id: clientId,
      text,
    });
    apply({ type: "sent", message: out.message, categories: out.categories ?? [] });
  } catch (e) {
    if (!(e instanceof AckError) || e.code !== "message_blocked") throw e;
    const categories = Array.isArray(e.details.categories) ? e.details.categories.map(String) : [];
    apply({ type: "stopped", call_id: call.call_id, client_id: clientId, text, categories });
  }
}

export function dismiss(): void {
  stopMedia();
  apply({ type: "clear" });
}
