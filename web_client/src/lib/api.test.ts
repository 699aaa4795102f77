import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

// lib/api.ts builds its client when loaded: give it an origin first.
vi.stubGlobal("location", { origin: "http://peiliao.test" });
let mod: typeof import("./api");
beforeAll(async () => {
  mod = await import("./api");
});

const seen: Request[] = [];
function answer(status: number, body: unknown): void {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      seen.push(request);
      return new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json" },
      });
    }),
  );
}

afterEach(() => {
  seen.length = 0;
  mod.setCsrf("");
});

describe("the typed API client", () => {
  it("answers with the body and sends the session's cookie, not a CSRF token, on a read", async () => {
    answer(200, { wallet_fen: 100, promo_fen: 0, held_fen: 0, booked_fen: 0, monthly_cap_fen: null, month_committed_fen: 0 });
    mod.setCsrf("tok");
    const wallet = await mod.api.get("/api/wallet");
    expect(wallet.wallet_fen).toBe(100);
    expect(seen[0].url).toBe("http://peiliao.test/api/wallet");
    expect(seen[0].credentials).toBe("same-origin");
    expect(seen[0].headers.get("X-CSRF-Token")).toBeNull();
  });

  it("fills path parameters, leaves empty query values out and carries the CSRF token on a write", async () => {
    answer(200, { bookings: [], next_cursor: null });
    await mod.api.get("/api/bookings", { params: { query: { role: "customer", status: undefined, cursor: null, limit: 20 } } });
    expect(seen[0].url).toBe("http://peiliao.test/api/bookings?role=customer&limit=20");
    answer(200, {});
    mod.setCsrf("tok");
    await mod.api.post("/api/bookings/{booking_id}/cancel", { params: { path: { booking_id: "bk/1" } }, body: { reason: "ill" } });
    expect(seen[1].url).toBe("http://peiliao.test/api/bookings/bk%2F1/cancel");
    expect(seen[1].headers.get("X-CSRF-Token")).toBe("tok");
    expect(seen[1].headers.get("Content-Type")).toBe("application/json");
    expect(await seen[1].json()).toEqual({ reason: "ill" });
  });

  it("turns a refusal into an ApiError with the server's code", async () => {
    answer(402, { error: { code: "insufficient_funds", message: "top up first" } });
    const err = await mod.api.post("/api/wallet/topups", { body: { amount_fen: 100 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(mod.ApiError);
    expect([(err as InstanceType<typeof mod.ApiError>).status, (err as InstanceType<typeof mod.ApiError>).code]).toEqual([402, "insufficient_funds"]);
  });

  it("names an answer without a code by its status, and a failed fetch 'network'", async () => {
    answer(502, "bad gateway");
    await expect(mod.api.get("/api/wallet")).rejects.toMatchObject({ status: 502, code: "http_502" });
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("offline"))));
    await expect(mod.api.get("/api/wallet")).rejects.toMatchObject({ status: 0, code: "network" });
  });

  it("uploads raw bytes with their own content type", async () => {
    answer(200, { id: "u1" });
    mod.setCsrf("tok");
    await mod.upload("put", "/api/me/application/voice-sample", new Blob(["abc"], { type: "audio/webm;codecs=opus" }), { type: "audio/webm" });
    expect(seen[0].method).toBe("PUT");
    expect(seen[0].headers.get("Content-Type")).toBe("audio/webm");
    expect(seen[0].headers.get("X-CSRF-Token")).toBe("tok");
    expect(await seen[0].text()).toBe("abc");
  });
});
