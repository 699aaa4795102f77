import { describe, expect, it } from "vitest";
import { detailLines, type Words } from "./auditdetail";

const words: Words = (section, value) =>
  ({ kind: { warn: "警告", ban: "永久封禁" }, outcome: { partial: "部分退款" }, yes: { "": "是" }, no: { "": "否" } } as Record<string, Record<string, string>>)[section]?.[value] ?? null;

describe("audit detail", () => {
  it("names known keys, words codes and shows amounts in yuan", () => {
    const lines = detailLines({ kind: "warn", requested: "ban", refund_fen: 1250, outcome: "partial", frozen: true }, words);
    expect(lines).toEqual([
      { key: "kind", nameKey: "audit_detail.keys.kind", value: "警告" },
      { key: "requested", nameKey: "audit_detail.keys.requested", value: "永久封禁" },
      { key: "refund_fen", nameKey: "audit_detail.keys.refund_fen", value: expect.stringContaining("12.50") },
      { key: "outcome", nameKey: "audit_detail.keys.outcome", value: "部分退款" },
      { key: "frozen", nameKey: null, value: "是" },
    ]);
  });
  it("never shows raw JSON for nested values", () => {
    const [line] = detailLines({ changes: { nickname: "小雨", tags: ["游戏", "音乐"] } }, words);
    expect(line.value).not.toMatch(/[{}"[\]]/);
    expect(line.value).toContain("游戏、音乐");
  });
  it("keeps an unknown code as it is and an empty detail empty", () => {
    expect(detailLines({ kind: "nuke" }, words)[0].value).toBe("nuke");
    expect(detailLines(null, words)).toEqual([]);
  });
});
