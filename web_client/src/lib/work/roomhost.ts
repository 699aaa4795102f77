// The host's side of a group voice room: one RTCPeerConnection with the server, like a call's
// (lib/media.ts), but with one audio m-line per other person the room can hold.  The first
// m-line sends the host's microphone; every m-line is a slot the server fills with one member's
// voice (media/room.py, docs/protocol.md "Group voice rooms"), so nothing is renegotiated as
// members come and go.
import { ask } from "../realtime";

export class RoomHostLink {
  pc: RTCPeerConnection | null = null;
  local: MediaStream | null = null;
  /** one stream per slot, for an <audio> element each */
  readonly voices: MediaStream[] = [];
  muted = false;
  private closed = false;

  constructor(
    readonly roomId: string,
    /** people at most, the host included */
    readonly capacity: number,
    private readonly onState: (state: RTCPeerConnectionState) => void = () => {},
    private readonly onVoices: (voices: MediaStream[]) => void = () => {},
  ) {}

  async start(): Promise<void> {
    const config = await ask<{ ice_servers: RTCIceServer[] }>("media:config", { call_id: this.roomId });
    this.local ??= await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    if (this.closed) return this.stopLocal();
    const pc = new RTCPeerConnection({ iceServers: config.ice_servers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    pc.addTransceiver(this.local.getAudioTracks()[0], { direction: "sendrecv", streams: [this.local] });
    for (let i = 2; i < Math.max(2, this.capacity); i++) pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = (e) => {
      this.voices.push(new MediaStream([e.track]));
      this.onVoices([...this.voices]);
    };
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (c && !c.candidate) return; // Chrome's empty "end of generation" marker; null follows
      ask("media:candidate", {
        call_id: this.roomId,
        candidate: c ? c.candidate : null,
        sdp_mid: c?.sdpMid ?? null,
        sdp_mline_index: c?.sdpMLineIndex ?? null,
        ufrag: c?.usernameFragment ?? null,
      }).catch(() => {});
    };
    pc.onconnectionstatechange = () => this.onState(pc.connectionState);
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await ask<{ sdp: string }>("media:offer", { call_id: this.roomId, sdp: pc.localDescription!.sdp });
    if (this.closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  async setMuted(muted: boolean): Promise<void> {
    this.muted = muted;
    for (const t of this.local?.getAudioTracks() ?? []) t.enabled = !muted;
    await ask("media:mute", { call_id: this.roomId, audio: muted, video: true });
  }

  private stopLocal(): void {
    for (const t of this.local?.getTracks() ?? []) t.stop();
    this.local = null;
  }

  close(): void {
    this.closed = true;
    this.pc?.close();
    this.pc = null;
    this.stopLocal();
  }
}
