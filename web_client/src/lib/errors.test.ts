// Every error code the server can answer with (src/api/error-codes.json, generated from the server
// and checked current by tests/web/test_contract.py) has words in both languages, and a refusal
// is shown in those words, never in the server's own message.
import { describe as suite, expect, it } from "vitest";
import serverCodes from "../api/error-codes.json";
import { messages } from "../i18n/messages";
import { ApiError } from "./api";
import { CLIENT_CODES, describe, errorCode } from "./errors";
import { AckError } from "./realtime";

const LOCALES = ["zh-CN", "en"] as const;
const worded = (locale: (typeof LOCALES)[number]): Record<string, unknown> => messages[locale].errors as Record<string, unknown>;

suite("error codes", () => {
  it("are the server's, read from the generated list", () => {
    expect(serverCodes.length).toBeGreaterThan(150);
    for (const code of ["insufficient_funds", "invalid_input", "unauthenticated", "ticket_full", "timeout"]) expect(serverCodes).toContain(code);
  });

  it("each have words in Chinese and in English", () => {
    for (const locale of LOCALES) {
      const missing = [...serverCodes, ...CLIENT_CODES, "generic"].filter((code) => {
        const text = worded(locale)[code];
        return typeof text !== "string" || text.trim() === "";
      });
      expect(missing, `codes without ${locale} words`).toEqual([]);
    }
  });

  it("have no words left for a code nobody sends any more", () => {
    const known = new Set<string>([...serverCodes, ...CLIENT_CODES, "generic"]);
    for (const locale of LOCALES) expect(Object.keys(worded(locale)).filter((k) => !known.has(k)), locale).toEqual([]);
  });

  it("are worded in Chinese for Chinese (not left in English)", () => {
    const english = Object.entries(worded("zh-CN")).filter(([, text]) => !/[\u4e00-\u9fff]/.test(String(text)));
    expect(english).toEqual([]);
  });
});

suite("describe", () => {
  it("words a refusal by its code and never passes the server's message on", () => {
    expect(describe(new ApiError(402, "insufficient_funds", "balance 0 < 100 fen"))).toEqual(["errors.insufficient_funds", {}]);
    expect(describe(new AckError("timeout", "the server took too long"))).toEqual(["errors.timeout", {}]);
    expect(describe(new ApiError(0, "network", "network error"))).toEqual(["errors.network", {}]);
  });

  it("falls back to the generic words with the code for a code it has none for", () => {
    expect(describe(new ApiError(409, "brand_new_code", "secret details"))).toEqual(["errors.generic", { code: "brand_new_code" }]);
    expect(describe(new ApiError(502, "http_502", "Bad Gateway"))).toEqual(["errors.generic", { code: "http_502" }]);
    expect(describe(new ApiError(400, "generic", "x"))).toEqual(["errors.generic", { code: "generic" }]);
  });

  it("calls a fault in the page itself unexpected", () => {
    expect(errorCode(new TypeError("x is undefined"))).toBe("unexpected");
    expect(describe("boom")).toEqual(["errors.generic", { code: "unexpected" }]);
  });
});
