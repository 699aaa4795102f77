// The browser's side of a voice or video call: one RTCPeerConnection with the server (never
// with the other person).  Offer/answer and trickled candidates ride on the Socket.IO link.
import { ask } from "./realtime";
import type { Mode } from "./types";

export interface MediaFigures {
  inboundBytes: number;
  packetsReceived: number;
  framesDecoded: number;
  outboundBytes: number;
}

export class MediaLink {
  pc: RTCPeerConnection | null = null;
  local: MediaStream | null = null;
  readonly remote = new MediaStream();
  muted = false;
  cameraOn = true;
  /** the remote track on each m-line (its mid): in a group voice room each carries one person
   * (``media:slots`` says whom) */
  readonly tracks = new Map<string, MediaStreamTrack>();
  onTrack: (mid: string, track: MediaStreamTrack) => void = () => {};
  private closed = false;

  /** ``receiveSlots``: audio m-lines to offer, the first also sending; a group voice room wants
   * one per other person it hears (at most 8), a call one. */
  constructor(
    readonly callId: string,
    readonly mode: Mode,
    private readonly onState: (state: RTCPeerConnectionState) => void = () => {},
    readonly receiveSlots = 1,
  ) {}

  async start(): Promise<void> {
    const config = await ask<{ ice_servers: RTCIceServer[] }>("media:config", { call_id: this.callId });
    this.local ??= await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: this.mode === "video" ? { width: { ideal: 640 }, height: { ideal: 480 } } : false,
    });
    if (this.closed) return this.stopLocal();
    const pc = new RTCPeerConnection({ iceServers: config.ice_servers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    const audio = this.local.getAudioTracks()[0];
    pc.addTransceiver(audio, { direction: "sendrecv", streams: [this.local] });
    for (let i = 1; i < this.receiveSlots; i++) pc.addTransceiver("audio", { direction: "recvonly" });
    if (this.mode === "video") {
      const video = this.local.getVideoTracks()[0];
      pc.addTransceiver(video, { direction: "sendrecv", streams: [this.local] });
    }
    pc.ontrack = (e) => {
      if (this.receiveSlots <= 1) {
        for (const t of this.remote.getTracks()) if (t.kind === e.track.kind) this.remote.removeTrack(t);
      }
      this.remote.addTrack(e.track);
      const mid = e.transceiver?.mid;
      if (mid) {
        this.tracks.set(mid, e.track);
        this.onTrack(mid, e.track);
      }
    };
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
    const answer = await ask<{ sdp: string }>("media:offer", {
      call_id: this.callId,
      sdp: pc.localDescription!.sdp,
    });
    if (this.closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    this.applyTrackState();
  }

  async setMuted(muted: boolean): Promise<void> {
    this.muted = muted;
    await this.announce();
  }

  async setCamera(on: boolean): Promise<void> {
    this.cameraOn = on;
    await this.announce();
  }

  private applyTrackState(): void {
    for (const t of this.local?.getAudioTracks() ?? []) t.enabled = !this.muted;
    for (const t of this.local?.getVideoTracks() ?? []) t.enabled = this.cameraOn;
  }

  private async announce(): Promise<void> {
    this.applyTrackState();
    await ask("media:mute", {
      call_id: this.callId,
      audio: this.muted,
      video: this.mode === "video" ? !this.cameraOn : true,
    });
  }

  async figures(): Promise<MediaFigures> {
    const out = { inboundBytes: 0, packetsReceived: 0, framesDecoded: 0, outboundBytes: 0 };
    if (!this.pc) return out;
    (await this.pc.getStats()).forEach((r: any) => {
      if (r.type === "inbound-rtp") {
        out.inboundBytes += r.bytesReceived ?? 0;
        out.packetsReceived += r.packetsReceived ?? 0;
        out.framesDecoded += r.framesDecoded ?? 0;
      } else if (r.type === "outbound-rtp") {
        out.outboundBytes += r.bytesSent ?? 0;
      }
    });
    return out;
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
