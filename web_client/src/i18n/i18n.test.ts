import { describe, expect, it } from "vitest";
import en from "./en.json";
import zhCN from "./zh-CN.json";

function keys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe("i18n", () => {
  it("has every string in both languages", () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort());
  });
  it("has no empty strings", () => {
    for (const dict of [en, zhCN]) {
      const flat = keys(dict);
      expect(flat.length).toBeGreaterThan(100);
    }
  });
});
