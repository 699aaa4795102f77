import { describe, expect, it } from "vitest";
import { normalizePhone } from "./phone";

describe("normalizePhone", () => {
  it("accepts +86, spaces and dashes", () => {
    expect(normalizePhone("+86 138-0000-0001")).toBe("13800000001");
    expect(normalizePhone(" 139 0000 0002 ")).toBe("13900000002");
  });
  it("rejects numbers that are not mainland mobiles", () => {
    expect(normalizePhone("12800000001")).toBeNull();
    expect(normalizePhone("1380000000")).toBeNull();
    expect(normalizePhone("+1 415 555 0100")).toBeNull();
  });
});
