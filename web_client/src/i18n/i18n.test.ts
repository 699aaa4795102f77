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

describe("counted words", () => {
  it("says one session and several sessions in English, the same words in Chinese", async () => {
    const { i18n } = await import("./index");
    // as plain functions: the messages' literal type is too deep for vue-i18n's key checking
    type Plain = { t: (key: string, named: Record<string, unknown>, plural: number) => string; locale: { value: string } };
    const global = i18n.global as unknown as Plain;
    global.locale.value = "en";
    const t = global.t;
    expect(t("fair.averages", { n: 1 }, 1)).toBe("Your last session");
    expect(t("fair.averages", { n: 3 }, 3)).toBe("Your last 3 sessions");
    expect(t("fair.avg_refunds_value", { n: 0, amount: "¥0.00" }, 0)).toBe("0 sessions, ¥0.00");
    expect(t("fair.avg_refunds_value", { n: 1, amount: "¥2.00" }, 1)).toBe("1 session, ¥2.00");
    global.locale.value = "zh-CN";
    expect(t("fair.averages", { n: 1 }, 1)).toBe("最近 1 单");
    expect(t("fair.avg_refunds_value", { n: 2, amount: "¥4.00" }, 2)).toBe("2 单，共 ¥4.00");
  });
});
