import { describe, expect, it } from "vitest";
import { clock, minutesLeft, parseYuan, yuan } from "./money";

describe("money", () => {
  it("shows fen as yuan", () => {
    expect(yuan(0)).toBe("¥0.00");
    expect(yuan(5)).toBe("¥0.05");
    expect(yuan(12345)).toBe("¥123.45");
    expect(yuan(-300)).toBe("-¥3.00");
  });
  it("parses typed yuan into fen", () => {
    expect(parseYuan("12")).toBe(1200);
    expect(parseYuan("12.5")).toBe(1250);
    expect(parseYuan("¥ 0.05")).toBe(5);
    expect(parseYuan("1.234")).toBeNull();
    expect(parseYuan("-3")).toBeNull();
    expect(parseYuan("abc")).toBeNull();
  });
  it("counts the minutes a balance pays for", () => {
    expect(minutesLeft(1000, 300)).toBe(3);
    expect(minutesLeft(299, 300)).toBe(0);
    expect(minutesLeft(299, 300, 5)).toBe(5);
    expect(minutesLeft(-10, 300)).toBe(0);
  });
  it("formats a call timer", () => {
    expect(clock(0)).toBe("0:00");
    expect(clock(61_500)).toBe("1:01");
    expect(clock(3_600_000 + 5_000)).toBe("1:00:05");
  });
});
