// The host's side of a group voice room: one peer connection with the server, negotiated like a
// call's (lib/serverlink.ts), but with one audio m-line per other person the room can hold.
// The first m-line sends the host's microphone; every m-line is a slot the server fills with one member's
// voice (media/room.py, docs/protocol.md "Group voice rooms"), so nothing is renegotiated as
// members come and go.
import { ask } from "../realtime";
import { ServerLink } from "../serverlink";

export class RoomHostLink extends ServerLink {
  /** one stream per slot, for an <audio> element each */
  readonly voices: MediaStream[] = [];

  constructor(
    roomId: string,
    /** people at most, the host included */
    readonly capacity: number,
    onState: (state: RTCPeerConnectionState) => void = () => {},
    private readonly onVoices: (voices: MediaStream[]) => void = () => {},
  ) {
    super(roomId, onState);
  }

  protected constraints(): MediaStreamConstraints {
    return { audio: { echoCancellation: true, noiseSuppression: true } };
  }

  protected addLines(pc: RTCPeerConnection, local: MediaStream): void {
    pc.addTransceiver(local.getAudioTracks()[0], { direction: "sendrecv", streams: [local] });
    for (let i = 2; i < Math.max(2, this.capacity); i++) pc.addTransceiver("audio", { direction: "recvonly" });
  }

  protected received(e: RTCTrackEvent): void {
    this.voices.push(new MediaStream([e.track]));
    this.onVoices([...this.voices]);
  }

  async setMuted(muted: boolean): Promise<void> {
    this.muted = muted;
    for (const t of this.local?.getAudioTracks() ?? []) t.enabled = !muted;
    await ask("media:mute", { call_id: this.callId, audio: muted, video: true });
  }
}
