// One RTCPeerConnection with the server (never with the other person), negotiated over the
// Socket.IO link: media:config names the ICE servers, the browser offers its m-lines
// (media:offer answers), and its candidates trickle after (media:candidate).  A call
// (lib/media.ts) and a voice room's host (lib/work/roomhost.ts) differ only in what they
// capture, which m-lines they offer and what they do with the tracks that come back.
import { ask } from "./realtime";

export abstract class ServerLink {
  pc: RTCPeerConnection | null = null;
  local: MediaStream | null = null;
  muted = false;
  protected closed = false;

  constructor(
    /** the session (a call's id, a room's id) the media belongs to: ``call_id`` on the wire */
    readonly callId: string,
    private readonly onState: (state: RTCPeerConnectionState) => void = () => {},
  ) {}

  /** What to capture (getUserMedia's constraints). */
  protected abstract constraints(): MediaStreamConstraints;
  /** Add the m-lines to offer, in order, to ``pc``. */
  protected abstract addLines(pc: RTCPeerConnection, local: MediaStream): void;
  /** A track the server sends. */
  protected abstract received(e: RTCTrackEvent): void;
  /** The server's answer is in place. */
  protected answered(): void {}

  async start(): Promise<void> {
    const config = await ask<{ ice_servers: RTCIceServer[] }>("media:config", { call_id: this.callId });
    this.local ??= await navigator.mediaDevices.getUserMedia(this.constraints());
    if (this.closed) return this.stopLocal();
    const pc = new RTCPeerConnection({ iceServers: config.ice_servers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    this.addLines(pc, this.local);
    pc.ontrack = (e) => this.received(e);
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (c && !c.candidate) return; // Chrome's empty "end of generation" marker; null follows
      ask("media:candidate", {
        call_id: this.callId,
        candidate: c ? c.candidate : null,
        sdp_mid: c?.sdpMid ?? null,
        sdp_mline_index: c?.sdpMLineIndex ?? null,
        ufrag: c?.usernameFragment ?? null,
      }).catch(() => {});
    };
    pc.onconnectionstatechange = () => this.onState(pc.connectionState);
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await ask<{ sdp: string }>("media:offer", { call_id: this.callId, sdp: pc.localDescription!.sdp });
    if (this.closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    this.answered();
  }

  protected stopLocal(): void {
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
