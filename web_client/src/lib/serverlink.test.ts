// The one negotiation a call and a room's host share (lib/serverlink.ts), against a stand-in
// RTCPeerConnection and Socket.IO link: what is asked of the server, in which order, with which
// m-lines; and that closing during the offer leaves nothing behind.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const asked: [string, Record<string, unknown>][] = [];
let reconnects = 0;
let answerGate: Promise<void> = Promise.resolve();
vi.mock("./realtime", () => ({
  ask: vi.fn(async (event: string, payload: Record<string, unknown>) => {
    asked.push([event, payload]);
    if (event === "media:config") return { ice_servers: [{ urls: "stun:stun.test" }] };
    if (event === "media:offer") {
      await answerGate;
      return { sdp: "answer-sdp" };
    }
    return {};
  }),
  reconnect: vi.fn(() => {
    reconnects += 1;
    asked.push(["(reconnect)", {}]);
  }),
}));

class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(readonly kind: "audio" | "video") {}
  stop(): void {
    this.stopped = true;
  }
}

class FakeStream {
  constructor(readonly tracks: FakeTrack[] = []) {}
  getTracks(): FakeTrack[] {
    return this.tracks;
  }
  getAudioTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === "audio");
  }
  getVideoTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === "video");
  }
  addTrack(t: FakeTrack): void {
    this.tracks.push(t);
  }
  removeTrack(t: FakeTrack): void {
    this.tracks.splice(this.tracks.indexOf(t), 1);
  }
}

const peers: FakePeer[] = [];
class FakePeer {
  lines: [string, string][] = [];
  remote: RTCSessionDescriptionInit | null = null;
  localDescription: { sdp: string } | null = null;
  closed = false;
  connectionState = "new";
  iceConnectionState = "new";
  oniceconnectionstatechange: (() => void) | null = null;
  ontrack: ((e: unknown) => void) | null = null;
  onicecandidate: ((e: unknown) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  constructor(readonly config: RTCConfiguration) {
    peers.push(this);
  }
  addTransceiver(what: FakeTrack | string, init: { direction: string }): void {
    this.lines.push([typeof what === "string" ? what : what.kind, init.direction]);
  }
  async createOffer(): Promise<{ type: string; sdp: string }> {
    return { type: "offer", sdp: `offer with ${this.lines.length} m-lines` };
  }
  async setLocalDescription(d: { sdp: string }): Promise<void> {
    this.localDescription = d;
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.remote = d;
  }
  close(): void {
    this.closed = true;
  }
  /** what the transport has received so far (a test moves it) */
  received = 0;
  async getStats(): Promise<Map<string, { type: string; bytesReceived: number }>> {
    return new Map([["T01", { type: "transport", bytesReceived: this.received }]]);
  }
}

let captured: MediaStreamConstraints[] = [];
beforeEach(() => {
  asked.length = 0;
  reconnects = 0;
  peers.length = 0;
  captured = [];
  answerGate = Promise.resolve();
  vi.stubGlobal("MediaStream", FakeStream);
  vi.stubGlobal("RTCPeerConnection", FakePeer);
  vi.stubGlobal("navigator", {
    mediaDevices: {
      getUserMedia: async (c: MediaStreamConstraints) => {
        captured.push(c);
        return new FakeStream(c.video ? [new FakeTrack("audio"), new FakeTrack("video")] : [new FakeTrack("audio")]);
      },
    },
  });
});
afterEach(() => vi.unstubAllGlobals());

const { MediaLink } = await import("./media");
const { RoomHostLink } = await import("./work/roomhost");

describe("negotiating with the server", () => {
  it("asks for ICE servers, offers the call's m-lines, trickles candidates and applies the answer", async () => {
    const states: string[] = [];
    const link = new MediaLink("call_1", "video", (s) => states.push(s));
    await link.start();
    const pc = peers[0];
    expect(pc.config).toEqual({ iceServers: [{ urls: "stun:stun.test" }], bundlePolicy: "max-bundle" });
    expect(pc.lines).toEqual([["audio", "sendrecv"], ["video", "sendrecv"]]);
    expect(captured[0].video).toBeTruthy();
    expect(asked.map(([e]) => e)).toEqual(["media:config", "media:offer"]);
    expect(asked[1][1]).toEqual({ call_id: "call_1", sdp: "offer with 2 m-lines" });
    expect(pc.remote).toEqual({ type: "answer", sdp: "answer-sdp" });

    pc.onicecandidate!({ candidate: { candidate: "", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "u" } });
    pc.onicecandidate!({ candidate: { candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "u" } });
    pc.onicecandidate!({ candidate: null });
    expect(asked.slice(2)).toEqual([
      ["media:candidate", { call_id: "call_1", candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host", sdp_mid: "0", sdp_mline_index: 0, ufrag: "u" }],
      ["media:candidate", { call_id: "call_1", candidate: null, sdp_mid: null, sdp_mline_index: null, ufrag: null }],
    ]);
    pc.connectionState = "connected";
    pc.onconnectionstatechange!();
    expect(states).toEqual(["connected"]);
  });

  it("offers a room's host one sending line and a receiving line per other seat", async () => {
    const heard: number[] = [];
    const host = new RoomHostLink("vr_1", 4, () => {}, (voices) => heard.push(voices.length));
    await host.start();
    expect(peers[0].lines).toEqual([["audio", "sendrecv"], ["audio", "recvonly"], ["audio", "recvonly"]]);
    expect(captured[0]).toEqual({ audio: { echoCancellation: true, noiseSuppression: true } });
    expect(asked[1][1]).toEqual({ call_id: "vr_1", sdp: "offer with 3 m-lines" });
    peers[0].ontrack!({ track: new FakeTrack("audio") });
    peers[0].ontrack!({ track: new FakeTrack("audio") });
    expect(heard).toEqual([1, 2]);
  });

  it("offers a voice room seat one line per voice it hears", async () => {
    await new MediaLink("vrs_1", "voice", () => {}, 3).start();
    expect(peers[0].lines).toEqual([["audio", "sendrecv"], ["audio", "recvonly"], ["audio", "recvonly"]]);
  });

  it("leaves the answer alone and the microphone off when closed while offering", async () => {
    let open!: () => void;
    answerGate = new Promise((resolve) => (open = resolve));
    const link = new MediaLink("call_2", "voice");
    const started = link.start();
    await vi.waitFor(() => expect(asked.map(([e]) => e)).toContain("media:offer"));
    const mic = link.local!.getAudioTracks()[0] as unknown as FakeTrack;
    link.close();
    open();
    await started;
    expect(peers[0].closed).toBe(true);
    expect(peers[0].remote).toBeNull();
    expect(mic.stopped).toBe(true);
  });

  it("prepares while the call rings: the accepted call offers at once, with the same capture", async () => {
    const link = new MediaLink("call_9", "video");
    await link.prepare();
    expect(asked.map(([e]) => e)).toEqual(["media:config"]);
    expect(captured).toHaveLength(1);
    expect(peers).toHaveLength(0); // nothing is offered before the accept
    const camera = link.local;
    await link.start();
    expect(asked.map(([e]) => e)).toEqual(["media:config", "media:offer"]);
    expect(captured).toHaveLength(1);
    expect(link.local).toBe(camera);
    // a restart asks for the ICE servers again (TURN credentials expire), not for the camera
    await link.restart();
    expect(asked.map(([e]) => e)).toEqual(["media:config", "media:offer", "(reconnect)", "media:config", "media:offer"]);
    expect(captured).toHaveLength(1);
  });

  it("turns the camera off when a prepared call ends before it is accepted", async () => {
    const link = new MediaLink("call_10", "video");
    const prepared = link.prepare();
    link.close(); // declined while capturing
    await prepared;
    expect(link.local).toBeNull();
    expect(peers).toHaveLength(0);
    const link2 = new MediaLink("call_11", "voice");
    await link2.prepare();
    const mic = link2.local!.getAudioTracks()[0] as unknown as FakeTrack;
    link2.close();
    expect(mic.stopped).toBe(true);
  });

  it("restarts ICE on the same call with a new peer connection when ICE fails", async () => {
    const link = new MediaLink("call_3", "voice");
    await link.start();
    const first = peers[0];
    const mic = link.local;
    first.iceConnectionState = "failed";
    first.oniceconnectionstatechange!();
    await vi.waitFor(() => expect(peers).toHaveLength(2));
    await vi.waitFor(() => expect(peers[1].remote).toEqual({ type: "answer", sdp: "answer-sdp" }));
    expect(first.closed).toBe(true);
    expect(link.pc).toBe(peers[1] as unknown as RTCPeerConnection);
    expect(link.local).toBe(mic); // the same microphone, not asked for again
    expect(captured).toHaveLength(1);
    expect(asked.filter(([e]) => e === "media:offer").map(([, p]) => p.call_id)).toEqual(["call_3", "call_3"]);
    expect(link.restarts).toBe(1);
    // Socket.IO reconnected before the new offer (its old connection may lead nowhere either).
    const order = asked.map(([e]) => e);
    expect(order.indexOf("(reconnect)")).toBeLessThan(order.lastIndexOf("media:config"));
    expect(reconnects).toBe(1);
    // The old connection's late events change nothing.
    first.oniceconnectionstatechange!();
    expect(peers).toHaveLength(2);
  });

  it("waits out a short disconnection before restarting, and never restarts once closed", async () => {
    vi.useFakeTimers();
    try {
      const link = new MediaLink("call_4", "voice");
      await link.start();
      peers[0].iceConnectionState = "disconnected";
      peers[0].oniceconnectionstatechange!();
      peers[0].iceConnectionState = "connected"; // it recovered within the grace
      await vi.advanceTimersByTimeAsync(2000);
      expect(peers).toHaveLength(1);
      peers[0].iceConnectionState = "disconnected";
      peers[0].oniceconnectionstatechange!();
      link.close();
      await vi.advanceTimersByTimeAsync(2000);
      expect(peers).toHaveLength(1);
      expect(link.restarts).toBe(0);
      expect(reconnects).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("restarts a connection that never gets connected (a handshake stuck), once it has waited long enough", async () => {
    vi.useFakeTimers();
    try {
      const link = new MediaLink("call_6", "video");
      await link.start();
      const first = peers[0];
      first.iceConnectionState = "connected"; // ICE works, DTLS never completes
      first.connectionState = "connecting";
      await vi.advanceTimersByTimeAsync(9000);
      expect(link.restarts).toBe(0); // a slow set-up is waited for
      await vi.advanceTimersByTimeAsync(1500);
      expect(link.restarts).toBe(1);
      expect(first.closed).toBe(true);
      await vi.waitFor(() => expect(peers).toHaveLength(2));
      const second = peers[1];
      await vi.waitFor(() => expect(second.remote).toEqual({ type: "answer", sdp: "answer-sdp" }));
      second.connectionState = second.iceConnectionState = "connected";
      for (let i = 0; i < 30; i++) {
        second.received += 1200; // connected and receiving: no further restart, however long
        await vi.advanceTimersByTimeAsync(500);
      }
      expect(link.restarts).toBe(1);
      link.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("restarts when nothing arrives from the server for a while though ICE still says connected", async () => {
    vi.useFakeTimers();
    try {
      const link = new MediaLink("call_5", "voice");
      await link.start();
      const first = peers[0];
      first.connectionState = first.iceConnectionState = "connected";
      for (let i = 0; i < 8; i++) {
        first.received += 1200; // media and RTCP keep coming: no restart
        await vi.advanceTimersByTimeAsync(500);
      }
      expect(peers).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(2600); // then nothing, ICE none the wiser
      expect(link.restarts).toBe(1);
      expect(reconnects).toBe(1);
      expect(first.closed).toBe(true);
      await vi.waitFor(() => expect(peers).toHaveLength(2));
      link.close();
      await vi.advanceTimersByTimeAsync(5000); // a closed link watches nothing
      expect(link.restarts).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
