// A text session is a chat, not a call: its request, answer and end have chat words
// (新的聊天请求 / 开始聊天 / 结束聊天).  The i18n keys for a text session live under
// ``call.chat`` and ``incoming.chat``; every other mode keeps the call words.
import type { Mode } from "./types";

/** The keys that have chat words. */
export const CHAT_WORDED = [
  "call.ringing",
  "call.ringing_in",
  "call.live",
  "call.paused",
  "call.ended",
  "call.hang_up",
  "call.cancel",
  "incoming.title",
  "incoming.accept",
  "incoming.mode",
] as const;

/** The i18n key to use for ``key`` in a session of ``mode``. */
export function wordFor(mode: Mode, key: string): string {
  if (mode !== "text" || !(CHAT_WORDED as readonly string[]).includes(key)) return key;
  const [section, ...rest] = key.split(".");
  return `${section}.chat.${rest.join(".")}`;
}
