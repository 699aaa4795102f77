// The text chat of the voice room I am in (docs/protocol.md, "Room chat"): messages ordered by
// the server's seq (they may arrive out of order from several processes), history on entering
// (what was said since I sat down) and after a reconnect, and what moderation told me.
import { reactive, watch } from "vue";
import { requestId } from "./market";
import { ask, link, on } from "./realtime";

export interface RoomMessage {
  room_id: string;
  seq: number;
  client_id: string;
  text: string;
  moderation: "allow" | "mask" | "review";
  sender: { user_id: string; nickname: string; role: "host" | "member" };
  sent_ms: number;
}

/** a room's chat holds this many messages in the page at most (older ones drop off) */
const KEPT = 300;

export const roomChat = reactive({
  roomId: "",
  messages: [] as RoomMessage[],
  /** safety notices for me: i18n keys under market.rooms.chat.safety */
  notices: [] as string[],
  /** seq of messages I was warned about (roomchat:warning) */
  warned: [] as number[],
});

let wired = false;

function add(m: RoomMessage): void {
  if (m.room_id !== roomChat.roomId) return;
  const list = roomChat.messages;
  if (list.some((x) => x.seq === m.seq)) return;
  const at = list.findIndex((x) => x.seq > m.seq);
  if (at === -1) list.push(m);
  else list.splice(at, 0, m);
  if (list.length > KEPT) list.splice(0, list.length - KEPT);
}

function notice(key: string): void {
  if (!roomChat.notices.includes(key)) roomChat.notices.push(key);
}

export function wireRoomChat(): void {
  if (wired) return;
  wired = true;
  on("roomchat:message", (m: RoomMessage) => add(m));
  on("roomchat:safety", (d: { room_id: string; flag: string }) => {
    if (d.room_id === roomChat.roomId) notice(d.flag);
  });
  on("roomchat:warning", (d: { room_id: string; seq: number }) => {
    if (d.room_id !== roomChat.roomId) return;
    roomChat.warned.push(d.seq);
    notice("contact");
  });
  watch(
    () => link.connected,
    (up) => {
      if (up && roomChat.roomId) void catchUp().catch(() => {});
    },
  );
}

/** Open the chat of a room I am in: the latest page of what I may read. */
export async function openRoomChat(roomId: string): Promise<void> {
  wireRoomChat();
  if (roomChat.roomId !== roomId) Object.assign(roomChat, { roomId, messages: [], notices: [], warned: [] });
  const page = await ask<{ messages: RoomMessage[] }>("roomchat:history", { room_id: roomId });
  page.messages.forEach(add);
}

/** After a reconnect: what came since the last message I have. */
async function catchUp(): Promise<void> {
  const last = roomChat.messages.at(-1)?.seq ?? 0;
  const page = await ask<{ messages: RoomMessage[] }>("roomchat:history", { room_id: roomChat.roomId, after_seq: last, limit: 100 });
  page.messages.forEach(add);
}

/** Send one message; the stored message (masked if moderation hid part of it). A refusal
 * (message_blocked, chat_muted, rate_limited, …) throws the ack's error. */
export async function sayInRoom(text: string): Promise<RoomMessage> {
  const out = await ask<{ message: RoomMessage }>("roomchat:send", { room_id: roomChat.roomId, client_id: requestId(), text });
  add(out.message);
  return out.message;
}

export function closeRoomChat(): void {
  Object.assign(roomChat, { roomId: "", messages: [], notices: [], warned: [] });
}
