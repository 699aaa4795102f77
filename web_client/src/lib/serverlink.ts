// One RTCPeerConnection with the server (never with the other person), negotiated over the
// Socket.IO link: media:config names the ICE servers, the browser offers its m-lines
// (media:offer answers), and its candidates trickle after (media:candidate).  A call
// (lib/media.ts) and a voice room's host (lib/work/roomhost.ts) differ only in what they
// capture, which m-lines they offer and what they do with the tracks that come back.
//
// Network changes (issue 17): when ICE fails, stays disconnected for DISCONNECTED_GRACE_MS, a new
// connection is not connected within CONNECT_TIMEOUT_MS, or nothing arrives from the server for
// RECEIVE_SILENCE_MS (a new address, a Wi-Fi to 4G switch),
// the link reconnects Socket.IO and restarts ICE with a new peer connection offering on
// the same call; the relay replaces its side and the session and its meter go on (media/room.py).
import { ask, reconnect } from "./realtime";

/** how long "disconnected" may last before we restart ICE (it often recovers by itself) */
export const DISCONNECTED_GRACE_MS = 1500;
/** ICE restarts one link makes at most; after them the server's liveness rule decides */
export const MAX_ICE_RESTARTS = 8;
const RESTART_RETRY_MS = 1000;
/** Nothing at all from the server (media, RTCP, STUN) for this long, while ICE still says
 * connected: restart.  The relay sends RTCP every 0.5–1.5 s per m-line even when the other
 * person sends nothing, so silence means the path is gone.  Chromium's own verdict takes 5 s and
 * more (its ICE "receiving" timeout, then "disconnected"), then DISCONNECTED_GRACE_MS. */
export const RECEIVE_SILENCE_MS = 2000;
/** A new peer connection not connected this long after the server's answer (ICE or the DTLS
 * handshake stuck: a flight lost on a bad network, whose retransmission OpenSSL backs off to 16 s
 * and more) is given up and restarted, like a failed one.  Set-up takes well under a second
 * normally, a few seconds on a loaded phone. */
export const CONNECT_TIMEOUT_MS = 10000;
const RECEIVE_POLL_MS = 500;

interface IceConfig {
  ice_servers: RTCIceServer[];
}

export abstract class ServerLink {
  pc: RTCPeerConnection | null = null;
  local: MediaStream | null = null;
  muted = false;
  /** ICE restarts made so far */
  restarts = 0;
  protected closed = false;
  private restarting = false;
  private watch: ReturnType<typeof setInterval> | null = null;
  private prepared: Promise<IceConfig> | null = null;

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

  /** What needs no accepted call: the ICE servers and the microphone (and camera).  Started
   * while a call rings (lib/calls.ts), so the accept is followed by the offer at once; a failure
   * here is retried by ``start``. */
  prepare(): Promise<IceConfig> {
    this.prepared ??= this.fetchConfig();
    return this.prepared;
  }

  private async fetchConfig(): Promise<IceConfig> {
    const config = await ask<IceConfig>("media:config", { call_id: this.callId });
    if (!this.local) {
      const local = await navigator.mediaDevices.getUserMedia(this.constraints());
      // closed meanwhile, or captured by a start that did not wait for this one
      if (this.closed || this.local) for (const t of local.getTracks()) t.stop();
      else this.local = local;
    }
    return config;
  }

  private async ready(): Promise<IceConfig> {
    const early = this.prepared;
    this.prepared = null; // a restart asks again: TURN credentials expire
    if (early) {
      try {
        return await early;
      } catch {
        /* asked again below */
      }
    }
    return this.fetchConfig();
  }

  async start(): Promise<void> {
    const config = await this.ready();
    if (this.closed || !this.local) return this.stopLocal();
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
    pc.oniceconnectionstatechange = () => this.iceChanged(pc);
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await ask<{ sdp: string }>("media:offer", { call_id: this.callId, sdp: pc.localDescription!.sdp });
    if (this.closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    this.answered();
    this.watchReceiving(pc);
  }

  /** Every RECEIVE_POLL_MS, the bytes the transport has received; once connected, none for
   * RECEIVE_SILENCE_MS restarts ICE (see RECEIVE_SILENCE_MS). */
  private watchReceiving(pc: RTCPeerConnection): void {
    this.stopWatch();
    let bytes = -1;
    let since = Date.now();
    const answered = since;
    let connected = false;
    this.watch = setInterval(() => {
      if (pc !== this.pc || this.closed) return this.stopWatch();
      connected ||= pc.connectionState === "connected";
      if (!connected && Date.now() - answered >= CONNECT_TIMEOUT_MS) return void this.restart();
      void pc
        .getStats()
        .then((stats) => {
          let now = 0;
          stats.forEach((r) => {
            if (r.type === "transport") now += r.bytesReceived ?? 0;
          });
          const t = Date.now();
          if (now !== bytes || pc.connectionState !== "connected") {
            bytes = now;
            since = t;
          } else if (t - since >= RECEIVE_SILENCE_MS && pc === this.pc) {
            void this.restart();
          }
        })
        .catch(() => {});
    }, RECEIVE_POLL_MS);
  }

  private stopWatch(): void {
    if (this.watch !== null) clearInterval(this.watch);
    this.watch = null;
  }

  private iceChanged(pc: RTCPeerConnection): void {
    if (pc !== this.pc || this.closed) return;
    if (pc.iceConnectionState === "failed") void this.restart();
    else if (pc.iceConnectionState === "disconnected") {
      setTimeout(() => {
        if (pc === this.pc && pc.iceConnectionState === "disconnected") void this.restart();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  /** Restart ICE: a new peer connection (new ICE credentials) offers on the same call, with the
   * same microphone and camera.  Not ``createOffer({iceRestart: true})`` on this one: the relay
   * answers a new ufrag with a new peer connection of its own, whose DTLS certificate differs,
   * and a browser keeps the DTLS transport (and fingerprint) of an existing connection.  A
   * failed attempt is retried after RESTART_RETRY_MS, MAX_ICE_RESTARTS in all.  Socket.IO is
   * reconnected first: a page cannot see its addresses, so any ICE failure may be a network
   * change that left the signaling connection leading nowhere too. */
  async restart(): Promise<void> {
    if (this.restarting || this.closed || this.restarts >= MAX_ICE_RESTARTS) return;
    this.restarting = true;
    this.restarts += 1;
    const old = this.pc;
    this.pc = null;
    this.stopWatch();
    old?.close();
    reconnect();
    try {
      await this.start();
    } catch {
      setTimeout(() => void this.restart(), RESTART_RETRY_MS);
    } finally {
      this.restarting = false;
    }
  }

  protected stopLocal(): void {
    for (const t of this.local?.getTracks() ?? []) t.stop();
    this.local = null;
  }

  close(): void {
    this.closed = true;
    this.stopWatch();
    this.pc?.close();
    this.pc = null;
    this.stopLocal();
  }
}
