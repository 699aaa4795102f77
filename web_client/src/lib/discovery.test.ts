import { describe, expect, it } from "vitest";
import { apiQuery, appendPage, defaults, fromQuery, levelBadge, narrowed, normalize, onlineFirst, PRICE_DEFAULT_MODE, sameFilters, stars, toQuery } from "./discovery";

describe("discovery filters in the URL", () => {
  it("round-trips every filter through the query string", () => {
    const f = { ...defaults(), q: "小雨", specialty: "游戏陪玩", mode: "voice" as const, minFen: 100, maxFen: 500, minRating: 4.5, gender: "female" as const, online: true, sort: "price" as const };
    const q = toQuery(f);
    expect(q).toEqual({ q: "小雨", specialty: "游戏陪玩", mode: "voice", min_fen: "100", max_fen: "500", rating: "4.5", gender: "female", online: "1", sort: "price" });
    expect(fromQuery(q)).toEqual(f);
    expect(new URLSearchParams(q).toString()).toContain("sort=price");
  });

  it("keeps defaults out of the URL", () => {
    expect(toQuery(defaults())).toEqual({});
    expect(fromQuery({})).toEqual(defaults());
    expect(narrowed(defaults())).toBe(false);
    expect(narrowed({ ...defaults(), sort: "new" })).toBe(false);
    expect(narrowed({ ...defaults(), online: true })).toBe(true);
  });

  it("ignores what it does not know or cannot parse", () => {
    const f = fromQuery({ mode: "telepathy", sort: "random", rating: "3.3", min_fen: "-5", max_fen: "1e9", gender: "x", online: "yes" });
    expect(f).toEqual(defaults());
    expect(fromQuery({ q: ["a", "b"] }).q).toBe("a");
    expect(fromQuery({ q: "x".repeat(100) }).q.length).toBe(40);
  });

  it("drops prices without a mode (the server refuses them)", () => {
    const f = fromQuery({ min_fen: "100", max_fen: "200" });
    expect(f.minFen).toBeNull();
    expect(f.maxFen).toBeNull();
    expect(apiQuery({ ...defaults(), maxFen: 300 }).max_fen).toBeNull();
  });

  it("sorts by the default mode's price when no mode is picked, instead of refusing 价格最低", () => {
    const f = fromQuery({ sort: "price" });
    expect([f.sort, f.mode]).toEqual(["price", PRICE_DEFAULT_MODE]);
    const q = apiQuery({ ...defaults(), sort: "price" });
    expect([q.sort, q.mode]).toEqual(["price", PRICE_DEFAULT_MODE]);
    // a picked mode wins
    expect(normalize({ ...defaults(), sort: "price", mode: "video" }).mode).toBe("video");
  });

  it("lists those online first, each group in its order", () => {
    const list = [
      { id: "a", status: "offline" },
      { id: "b", status: "online" },
      { id: "c", status: "busy" },
      { id: "d", status: "online" },
    ];
    expect(onlineFirst(list).map((c) => c.id)).toEqual(["b", "d", "a", "c"]);
  });

  it("badges a companion by the level the server has, never newcomer by default", () => {
    expect(levelBadge("gold")).toBe("gold");
    expect(levelBadge("senior")).toBe("senior");
    expect(levelBadge("newcomer")).toBe("newcomer");
    expect(levelBadge("")).toBeNull();
    expect(levelBadge(undefined)).toBeNull();
    expect(levelBadge("platinum")).toBeNull();
  });

  it("puts a reversed price range the right way round", () => {
    const f = normalize({ ...defaults(), mode: "text", minFen: 500, maxFen: 100 });
    expect([f.minFen, f.maxFen]).toEqual([100, 500]);
  });

  it("builds the catalog query with the cursor", () => {
    const q = apiQuery({ ...defaults(), q: "  Lily ", mode: "text", maxFen: 200, online: true, sort: "rating", minRating: 4 }, "abc.def");
    expect(q).toMatchObject({ q: "Lily", mode: "text", max_fen: 200, online: true, sort: "rating", min_rating: 4, cursor: "abc.def", limit: 20 });
    expect(apiQuery(defaults()).sort).toBeNull();
  });

  it("compares filters by what they ask", () => {
    expect(sameFilters({ ...defaults(), q: " a " }, { ...defaults(), q: "a" })).toBe(true);
    expect(sameFilters(defaults(), { ...defaults(), online: true })).toBe(false);
  });
});

describe("load more", () => {
  it("shows each companion once across pages", () => {
    const a = [{ id: "1" }, { id: "2" }];
    expect(appendPage(a, [{ id: "2" }, { id: "3" }]).map((c) => c.id)).toEqual(["1", "2", "3"]);
  });
});

describe("stars", () => {
  it("rounds a rating × 100 to whole and half stars", () => {
    expect(stars(450)).toEqual({ full: 4, half: true, text: "4.5" });
    expect(stars(480)).toEqual({ full: 5, half: false, text: "4.8" });
    expect(stars(420)).toEqual({ full: 4, half: false, text: "4.2" });
    expect(stars(0)).toEqual({ full: 0, half: false, text: "0.0" });
    expect(stars(999).full).toBe(5);
  });
});
