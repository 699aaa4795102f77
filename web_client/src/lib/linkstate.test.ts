import { describe, expect, it } from "vitest";
import { linkState, studioStatus } from "./linkstate";

describe("link state", () => {
  it("is connected only while the socket is up", () => {
    expect(linkState({ connected: true, retrying: false, online: true })).toBe("connected");
    expect(linkState({ connected: false, retrying: true, online: true })).toBe("reconnecting");
    expect(linkState({ connected: false, retrying: true, online: false })).toBe("offline");
    expect(linkState({ connected: false, retrying: false, online: true })).toBe("offline");
  });

  it("never shows a companion online whose page lost the server", () => {
    expect(studioStatus("online", "connected")).toBe("online");
    expect(studioStatus("busy", "connected")).toBe("busy");
    expect(studioStatus("online", "reconnecting")).toBe("reconnecting");
    expect(studioStatus("online", "offline")).toBe("disconnected");
    expect(studioStatus("offline", "offline")).toBe("disconnected");
  });
});
