// The socket learns who someone is (and their role) when it connects: after an approval turns a
// customer into a companion, connect again so presence and calls see the new role (App.vue's
// ``online`` does the same at sign-in).
import { setSocketId } from "../calls";
import { connect, disconnect } from "../realtime";

export function relink(): void {
  disconnect();
  const socket = connect();
  setSocketId(() => socket.id);
}
