// How long a session has run, on the server's clock: counted from the call's ``accepted_ms``
// (the server's start), never from when this page saw it start, so every device of both sides
// and a page opened again mid-call show the same time (docs/protocol.md, "Timing a call").
import type { CallObject } from "./types";

/** How far the server's clock is ahead of ours: ``session:hello`` carries its ``server_ms``. */
export function clockOffsetMs(serverMs: number, localMs: number): number {
  return serverMs - localMs;
}

/** Milliseconds the call has run at ``localMs`` (this page's clock), given the offset; null
 * before it was answered.  An ended call shows its whole length. */
export function elapsedMs(call: CallObject, localMs: number, offsetMs: number): number | null {
  if (call.accepted_ms === null) return null;
  const until = call.status === "ended" && call.ended_ms !== null ? call.ended_ms : localMs + offsetMs;
  return Math.max(0, until - call.accepted_ms);
}
