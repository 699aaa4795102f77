// What the page knows of its own connection to the server, in one word, and what a companion's
// online switch can honestly say with it: "online" is the server's word for a companion taking
// calls, and it stops being true for customers the moment this page's socket is gone.

export type LinkState = "connected" | "reconnecting" | "offline";

/** ``connected``: the socket is up; ``reconnecting``: it is down and Socket.IO is trying again;
 * ``offline``: the browser has no network, or nobody is trying (logged out, refused). */
export function linkState(l: { connected: boolean; retrying: boolean; online: boolean }): LinkState {
  if (l.connected) return "connected";
  if (!l.online) return "offline";
  return l.retrying ? "reconnecting" : "offline";
}

export type Presence = "online" | "busy" | "offline";
/** What the studio's switch shows: the server's status while connected; otherwise the link's. */
export type Shown = Presence | "reconnecting" | "disconnected";

export function studioStatus(status: Presence, link: LinkState): Shown {
  if (link === "connected") return status;
  return link === "reconnecting" ? "reconnecting" : "disconnected";
}
