// The browser's side of a voice or video call (or a seat in a voice room): one peer connection
// with the server (lib/serverlink.ts negotiates it), sending the microphone (and camera) and
// playing what the server sends back.
import { ask } from "./realtime";
import { ServerLink } from "./serverlink";
import type { Mode } from "./types";

export interface MediaFigures {
  inboundBytes: number;
  packetsReceived: number;
  framesDecoded: number;
  outboundBytes: number;
}

export class MediaLink extends ServerLink {
  readonly remote = new MediaStream();
  cameraOn = true;
  /** the remote track on each m-line (its mid): in a group voice room each carries one person
   * (``media:slots`` says whom) */
  readonly tracks = new Map<string, MediaStreamTrack>();
  onTrack: (mid: string, track: MediaStreamTrack) => void = () => {};

  /** ``receiveSlots``: audio m-lines to offer, the first also sending; a group voice room wants
   * one per other person it hears (at most 8), a call one. */
  constructor(
    callId: string,
    readonly mode: Mode,
    onState: (state: RTCPeerConnectionState) => void = () => {},
    readonly receiveSlots = 1,
  ) {
    super(callId, onState);
  }

  protected constraints(): MediaStreamConstraints {
    return {
      audio: { echoCancellation: true, noiseSuppression: true },
      video: this.mode === "video" ? { width: { ideal: 640 }, height: { ideal: 480 } } : false,
    };
  }

  protected addLines(pc: RTCPeerConnection, local: MediaStream): void {
    const audio = local.getAudioTracks()[0];
    pc.addTransceiver(audio, { direction: "sendrecv", streams: [local] });
    for (let i = 1; i < this.receiveSlots; i++) pc.addTransceiver("audio", { direction: "recvonly" });
    if (this.mode === "video") {
      const video = local.getVideoTracks()[0];
      pc.addTransceiver(video, { direction: "sendrecv", streams: [local] });
    }
  }

  protected received(e: RTCTrackEvent): void {
    if (this.receiveSlots <= 1) {
      for (const t of this.remote.getTracks()) if (t.kind === e.track.kind) this.remote.removeTrack(t);
    }
    this.remote.addTrack(e.track);
    const mid = e.transceiver?.mid;
    if (mid) {
      this.tracks.set(mid, e.track);
      this.onTrack(mid, e.track);
    }
  }

  protected answered(): void {
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

}
