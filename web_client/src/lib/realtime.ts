// The Socket.IO connection: one per tab, authenticated by the session cookie.  Every event the
// server sends reaches the call store; acks come back as {ok, ...} or {ok: false, error}.
import { io, type Socket } from "socket.io-client";
import { reactive } from "vue";
import { api } from "./api";
import { linkState, type LinkState } from "./linkstate";
import { clockOffsetMs } from "./sessiontime";
import { session } from "./session";

// revoked: why the server ended this login's socket (docs/protocol.md, session:revoked), or "".
// state: connected / reconnecting / offline (lib/linkstate.ts); offsetMs: how far the server's
// clock is ahead of this page's, from session:hello (lib/sessiontime.ts).
export const link = reactive({
  connected: false,
  draining: false,
  revoked: "",
  state: "offline" as LinkState,
  offsetMs: 0,
});

function restate(): void {
  link.state = linkState({
    connected: socket?.connected ?? false,
    retrying: socket?.active ?? false,
    online: typeof navigator === "undefined" || navigator.onLine,
  });
}
if (typeof window !== "undefined") {
  window.addEventListener("online", restate);
  // The network is gone: the socket may take its ping time-out to notice; the page knows now.
  window.addEventListener("offline", restate);
}

let socket: Socket | null = null;
const handlers = new Map<string, Set<(data: any) => void>>();

export function connect(): Socket {
  if (socket) return socket;
  link.revoked = ""; // a new socket: a new login (App.vue connects once someone is signed in)
  socket = open();
  return socket;
}

/** A Socket.IO connection of its own (``forceNew``: not multiplexed on an older one's engine)
 * with every handler; the handlers of a socket replaced by ``reconnect`` do nothing. */
function open(): Socket {
  const s = io({ transports: ["websocket"], withCredentials: true, forceNew: true });
  const mine = () => s === socket;
  s.on("connect", () => {
    if (!mine()) return;
    link.connected = true;
    link.draining = false;
    restate();
  });
  s.on("disconnect", () => {
    if (!mine()) return;
    link.connected = false;
    restate();
  });
  s.on("connect_error", () => mine() && restate());
  s.io.on("reconnect_attempt", () => mine() && restate());
  s.io.on("reconnect_failed", () => mine() && restate());
  s.on("session:hello", (d: { server_ms?: number }) => {
    if (mine() && typeof d.server_ms === "number") link.offsetMs = clockOffsetMs(d.server_ms, Date.now());
  });
  s.on("server:draining", () => {
    if (!mine()) return;
    link.draining = true;
    // The server is going away: reconnect (a load balancer sends us to another process).
    setTimeout(() => {
      s.disconnect();
      s.connect();
    }, 500);
  });
  s.on("session:revoked", (d: { reason: string }) => {
    if (!mine()) return;
    if (d.reason === "role_changed") {
      // Still logged in, in a new role (an approved application): learn it, connect again as it.
      void api.get("/api/me")
        .then((me) => {
          session.me = me;
        })
        .finally(() => s.connect());
      return;
    }
    // Logged out (here or elsewhere), the account deleted or sanctioned: back to the login page.
    link.revoked = d.reason;
    session.me = null;
    // Imported here, not at the top: the router builds browser history when loaded.
    void import("../router").then(({ router }) =>
      router.push({ path: "/login", query: { next: router.currentRoute.value.fullPath } }),
    );
  });
  s.onAny((event: string, data: unknown) => {
    if (!mine()) return;
    for (const h of handlers.get(event) ?? []) h(data);
  });
  return s;
}

/** A new connection in place of the current one, for a page whose network may have changed (an
 * ICE restart): the old TCP connection may lead nowhere, and would take the ping time-out
 * (~45 s) to notice.  The old one is closed only once the new one is up, so the server always
 * counts a device of ours (the call is never "away"); emits meanwhile wait in the new one's
 * buffer. */
export function reconnect(): void {
  const old = socket;
  if (!old || link.revoked) return;
  socket = open();
  const retire = () => old.disconnect();
  socket.once("connect", retire);
  socket.once("connect_error", retire);
}

export function disconnect(): void {
  socket?.disconnect();
  socket = null;
  link.connected = false;
  restate();
}

export function on(event: string, handler: (data: any) => void): () => void {
  let set = handlers.get(event);
  if (!set) handlers.set(event, (set = new Set()));
  set.add(handler);
  return () => set!.delete(handler);
}

export class AckError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    /** the refusal's data (``message_blocked``: ``categories``); never its words */
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Emit and wait for the ack; a refusal throws AckError with the server's code. */
export async function ask<T = any>(event: string, payload?: unknown, timeoutMs = 15_000): Promise<T> {
  if (link.revoked) throw new AckError("session_revoked", "your login has ended; log in again");
  const s = connect();
  const ack: any = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new AckError("timeout", "no answer from the server")), timeoutMs);
    const done = (a: unknown) => {
      clearTimeout(timer);
      resolve(a);
    };
    if (payload === undefined) s.emit(event, done);
    else s.emit(event, payload, done);
  });
  if (!ack || !ack.ok) {
    throw new AckError(ack?.error?.code ?? "error", ack?.error?.message ?? "refused", ack?.error?.details ?? {});
  }
  return ack as T;
}
