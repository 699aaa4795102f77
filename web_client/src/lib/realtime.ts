// The Socket.IO connection: one per tab, authenticated by the session cookie.  Every event the
// server sends reaches the call store; acks come back as {ok, ...} or {ok: false, error}.
import { io, type Socket } from "socket.io-client";
import { reactive } from "vue";
import { api } from "./api";
import { session } from "./session";

// revoked: why the server ended this login's socket (docs/protocol.md, session:revoked), or "".
export const link = reactive({ connected: false, draining: false, revoked: "" });

let socket: Socket | null = null;
const handlers = new Map<string, Set<(data: any) => void>>();

export function connect(): Socket {
  if (socket) return socket;
  link.revoked = ""; // a new socket: a new login (App.vue connects once someone is signed in)
  socket = io({ transports: ["websocket"], withCredentials: true });
  socket.on("connect", () => {
    link.connected = true;
    link.draining = false;
  });
  socket.on("disconnect", () => {
    link.connected = false;
  });
  socket.on("server:draining", () => {
    link.draining = true;
    // The server is going away: reconnect (a load balancer sends us to another process).
    setTimeout(() => {
      socket?.disconnect();
      socket?.connect();
    }, 500);
  });
  socket.on("session:revoked", (d: { reason: string }) => {
    if (d.reason === "role_changed") {
      // Still logged in, in a new role (an approved application): learn it, connect again as it.
      void api.get("/api/me")
        .then((me) => {
          session.me = me;
        })
        .finally(() => socket?.connect());
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
  socket.onAny((event: string, data: unknown) => {
    for (const h of handlers.get(event) ?? []) h(data);
  });
  return socket;
}

export function disconnect(): void {
  socket?.disconnect();
  socket = null;
  link.connected = false;
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
    throw new AckError(ack?.error?.code ?? "error", ack?.error?.message ?? "refused");
  }
  return ack as T;
}
