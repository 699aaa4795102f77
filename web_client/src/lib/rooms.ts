// The group voice room I am in (or host): joined with room:join, its members from room:update,
// my live spend from room:meter, and its audio through the same MediaLink as calls, with the
// room id as the call id and one receiving m-line per other person (docs/protocol.md, "Group
// voice rooms").
import { reactive, shallowRef } from "vue";
import { api } from "./api";
import { requestId, type RoomMeter, type RoomObject } from "./market";
import { MediaLink } from "./media";
import { ask, on } from "./realtime";

/** the relay's limit of slots per kind */
const MAX_SLOTS = 8;

export interface RoomState {
  room: RoomObject | null;
  /** my metered session in it (members) */
  sessionId: string | null;
  hosting: boolean;
  meter: RoomMeter | null;
  /** my session bills (my media and the host's both arrive) */
  flowing: boolean;
  /** out of money: top up within the grace or be removed */
  paused: boolean;
  lowBalance: boolean;
  /** why I am no longer in it (room:left), or null */
  left: string | null;
  media: RTCPeerConnectionState | "idle";
  /** mid → whose voice it carries (media:slots) */
  slots: Record<string, string>;
  /** user id → muted (media:peer) */
  muted: Record<string, boolean>;
  /** user id → speaking now (from the audio levels of getStats) */
  speaking: Record<string, boolean>;
  iMuted: boolean;
}

function blank(): RoomState {
  return {
    room: null,
    sessionId: null,
    hosting: false,
    meter: null,
    flowing: false,
    paused: false,
    lowBalance: false,
    left: null,
    media: "idle",
    slots: {},
    muted: {},
    speaking: {},
    iMuted: false,
  };
}

export const voice = reactive<RoomState>(blank());
export const roomMedia = shallowRef<MediaLink | null>(null);
let wired = false;
let levels: ReturnType<typeof setInterval> | undefined;
/** audio level (0..1) above which a voice counts as speaking */
const SPEAKING_LEVEL = 0.02;

function mine(roomId: string | undefined): boolean {
  return !!roomId && voice.room?.room_id === roomId;
}

export function wireRooms(): void {
  if (wired) return;
  wired = true;
  on("room:update", (r: RoomObject) => {
    if (!mine(r.room_id)) return;
    voice.room = r;
    if (r.status === "closed") stopMedia();
  });
  on("room:left", (d: { room_id: string; reason: string }) => {
    if (!mine(d.room_id)) return;
    voice.left = d.reason;
    if (voice.room) voice.room = { ...voice.room, members: voice.room.members.filter((m) => m.role === "host") };
    stopMedia();
  });
  on("room:meter", (m: RoomMeter) => {
    if (mine(m.room_id)) {
      voice.meter = { ...voice.meter, ...m };
      if (m.low_balance !== undefined) voice.lowBalance = m.low_balance;
    }
  });
  on("room:notice", (n: { room_id: string; kind: string }) => {
    if (!mine(n.room_id)) return;
    if (n.kind === "paused") voice.paused = true;
    if (n.kind === "resumed") voice.paused = false;
    if (n.kind === "low_balance") voice.lowBalance = true;
  });
  on("media:state", (d: { call_id: string; flowing: boolean }) => {
    if (mine(d.call_id)) voice.flowing = d.flowing;
  });
  on("media:slots", (d: { call_id: string; slots: { kind: string; mid: string; user_id: string }[] }) => {
    if (!mine(d.call_id)) return;
    voice.slots = Object.fromEntries(d.slots.filter((s) => s.kind === "audio").map((s) => [s.mid, s.user_id]));
  });
  on("media:peer", (d: { call_id: string; user_id: string; audio: boolean }) => {
    if (mine(d.call_id)) voice.muted = { ...voice.muted, [d.user_id]: d.audio };
  });
}

function startMedia(room: RoomObject): void {
  stopMedia();
  const slots = Math.max(1, Math.min(MAX_SLOTS, room.capacity - 1));
  const link = new MediaLink(room.room_id, "voice", (s) => (voice.media = s), slots);
  roomMedia.value = link;
  voice.media = "new";
  link.start().catch((e) => {
    console.warn("room media failed", e);
    voice.media = "failed";
  });
  levels = setInterval(() => void sampleLevels(link), 400);
}

function stopMedia(): void {
  clearInterval(levels);
  roomMedia.value?.close();
  roomMedia.value = null;
  voice.media = "idle";
  voice.speaking = {};
}

/** Who is speaking: each receiving m-line's audio level, mapped to its person by media:slots,
 * and my own microphone's. */
async function sampleLevels(link: MediaLink): Promise<void> {
  const pc = link.pc;
  if (!pc) return;
  const speaking: Record<string, boolean> = {};
  (await pc.getStats()).forEach((r: any) => {
    if (r.type === "inbound-rtp" && r.kind === "audio" && r.mid !== undefined) {
      const who = voice.slots[String(r.mid)];
      if (who && (r.audioLevel ?? 0) > SPEAKING_LEVEL) speaking[who] = true;
    } else if (r.type === "media-source" && r.kind === "audio" && !voice.iMuted && (r.audioLevel ?? 0) > SPEAKING_LEVEL) {
      speaking.me = true;
    }
  });
  voice.speaking = speaking;
}

function adopt(room: RoomObject, hosting: boolean, sessionId: string | null): void {
  Object.assign(voice, blank(), { room, hosting, sessionId });
  startMedia(room);
}

/** Join a room as a member (the first minute is reserved, or the join is refused). */
export async function joinRoom(roomId: string): Promise<void> {
  wireRooms();
  const out = await ask<{ room: RoomObject; session_id: string }>("room:join", { room_id: roomId, request_id: requestId() });
  adopt(out.room, false, out.session_id);
  // My balance and minutes left before the first billing step says them.
  try {
    const m = await api.get("/api/sessions/{session_id}/meter", { params: { path: { session_id: out.session_id } } });
    voice.meter = { room_id: roomId, billed_minutes: m.billed_minutes, charged_fen: m.charged_fen, balance_fen: m.balance_fen, minutes_left: m.minutes_left, ...voice.meter };
  } catch {
    /* room:meter brings them */
  }
}

/** Take up the room I am already in or host (a reload, another tab); false if I am not in it. */
export async function resumeRoom(roomId: string, me: string): Promise<boolean> {
  wireRooms();
  if (voice.room?.room_id === roomId && voice.room.status === "open" && !voice.left) return true;
  const out = await ask<{ room: RoomObject | null }>("room:current");
  if (!out.room || out.room.room_id !== roomId) return false;
  adopt(out.room, out.room.host.user_id === me, null);
  return true;
}

/** Leave (a member: my session ends and is settled; the host: the room closes). */
export async function leaveRoom(): Promise<void> {
  const room = voice.room;
  if (!room) return;
  const out = await ask<{ room: RoomObject }>("room:leave", { room_id: room.room_id });
  stopMedia();
  voice.room = out.room;
  voice.left = "left";
}

export async function setRoomMuted(muted: boolean): Promise<void> {
  voice.iMuted = muted;
  await roomMedia.value?.setMuted(muted);
}

/** Forget the room (after leaving, before showing another). */
export function clearRoom(): void {
  stopMedia();
  Object.assign(voice, blank());
}
