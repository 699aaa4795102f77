import { describe, expect, it } from "vitest";
import { merge, messages, parts } from "./messages";

function keys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function leaves(obj: object): unknown[] {
  return Object.values(obj).flatMap((v) => (v && typeof v === "object" ? leaves(v as object) : [v]));
}

describe("i18n", () => {
  it("has every string in both languages, file by file", () => {
    for (const [name, part] of Object.entries(parts)) {
      expect(keys(part.en).sort(), name).toEqual(keys(part["zh-CN"]).sort());
    }
  });
  it("has no empty strings", () => {
    for (const dict of [messages.en, messages["zh-CN"]]) {
      expect(keys(dict).length).toBeGreaterThan(100);
      for (const value of leaves(dict)) expect(typeof value === "string" && value.length > 0).toBe(true);
    }
  });
  it("refuses a section defined in two files", () => {
    expect(() => merge({ call: {} }, { call: {} })).toThrow(/twice/);
  });
});
