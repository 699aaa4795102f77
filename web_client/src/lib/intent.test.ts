import { describe, expect, it } from "vitest";
import { INTENT_TTL_MS, parseIntent, rememberIntent, takeIntent } from "./intent";

function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}

describe("intent across login", () => {
  const now = 1_800_000_000_000;
  it("replays a favourite once, on that companion's page only", () => {
    const s = memory();
    rememberIntent({ kind: "favourite", companionId: "u_abc", at: now }, s);
    expect(takeIntent("u_other", now + 1000, s)).toBeNull();
    expect(takeIntent("u_abc", now + 1000, s)).toEqual({ kind: "favourite", companionId: "u_abc", at: now });
    expect(takeIntent("u_abc", now + 2000, s)).toBeNull(); // taken: not done twice
  });
  it("keeps a call's mode", () => {
    const s = memory();
    rememberIntent({ kind: "call", companionId: "u_abc", mode: "voice", at: now }, s);
    expect(takeIntent("u_abc", now, s)).toMatchObject({ kind: "call", mode: "voice" });
  });
  it("forgets a stale intent", () => {
    const s = memory();
    rememberIntent({ kind: "favourite", companionId: "u_abc", at: now }, s);
    expect(takeIntent("u_abc", now + INTENT_TTL_MS + 1, s)).toBeNull();
  });
  it("refuses anything malformed", () => {
    for (const raw of ["", "{", "null", '{"kind":"call","companionId":"u_a","mode":"fax","at":1}', '{"kind":"favourite","companionId":"../x","at":1}', '{"kind":"block","companionId":"u_a","at":1}'])
      expect(parseIntent(raw, 1000)).toBeNull();
  });
});
