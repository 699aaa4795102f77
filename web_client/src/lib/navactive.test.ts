import { describe, expect, it } from "vitest";
import { activeNav } from "./navactive";

const COMPANION = ["/studio?tab=money", "/studio", "/me", "/support"];
const CUSTOMER = ["/companions", "/rooms", "/bookings", "/sessions", "/wallet", "/me", "/support"];

describe("activeNav", () => {
  it("lights the companion's 钱包 on the studio's money tab, 接单台 on its other tabs", () => {
    expect(activeNav(COMPANION, "/studio", { tab: "money" })).toBe("/studio?tab=money");
    expect(activeNav(COMPANION, "/studio", {})).toBe("/studio");
    expect(activeNav(COMPANION, "/studio", { tab: "orders" })).toBe("/studio");
  });
  it("lights a parent for its sub-pages and nothing for pages outside the nav", () => {
    expect(activeNav(CUSTOMER, "/companions/u_1", {})).toBe("/companions");
    expect(activeNav(CUSTOMER, "/support/t_1", {})).toBe("/support");
    expect(activeNav(CUSTOMER, "/call", {})).toBeNull();
    expect(activeNav(CUSTOMER, "/companionship", {})).toBeNull();
    expect(activeNav(CUSTOMER, "/sessions", { tab: "appeals" })).toBe("/sessions");
  });
});
