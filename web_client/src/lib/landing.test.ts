import { describe, expect, it } from "vitest";
import { landing, pageRole, safeNext } from "./landing";

describe("landing", () => {
  it("lands each role on its own first screen", () => {
    expect(landing("admin")).toBe("/admin");
    expect(landing("companion")).toBe("/studio");
    expect(landing("customer")).toBe("/companions");
    expect(landing(null)).toBe("/companions");
  });
  it("follows next only within this site", () => {
    expect(safeNext("/companions/u_1?x=1", "customer")).toBe("/companions/u_1?x=1");
    for (const bad of ["//evil.example/x", "https://evil.example", "/\\evil", "/login?next=/me", "/welcome", "", undefined, 3])
      expect(safeNext(bad, "admin")).toBe("/admin");
    expect(safeNext(["/me"], "customer")).toBe("/me");
  });
  it("knows the pages of one role", () => {
    expect(pageRole("/admin")).toBe("admin");
    expect(pageRole("/administrator")).toBeNull();
    expect(pageRole("/companions")).toBeNull();
  });
});
