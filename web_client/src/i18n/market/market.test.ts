// Every marketplace string the components ask for exists in both languages, and the values the
// API sends as codes have words.
import { describe, expect, it } from "vitest";
import { createI18n } from "vue-i18n";
import { messages } from "../messages";
import { APPEAL_REASONS } from "../../lib/sessions";
import { SORTS } from "../../lib/discovery";

/** the client's source, as text (Vite's glob import) */
const sources = import.meta.glob(["../../**/*.vue", "../../**/*.ts", "!../../**/*.test.ts"], { query: "?raw", import: "default", eager: true }) as Record<string, string>;

// The composer's own typing is too deep for tsc here: a plain view of what the test calls.
const i18n = createI18n({ legacy: false, locale: "en", messages }) as unknown as {
  global: { te: (key: string, locale: string) => boolean; t: (key: string, params?: Record<string, string>) => string; locale: { value: string } };
};
const te = (key: string, locale: "en" | "zh-CN") => i18n.global.te(key, locale);

describe("market strings", () => {
  it("has every key the code names, in both languages", () => {
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const m of text.matchAll(/["'](market\.[a-z_]+(?:\.[a-z_0-9]+)+)["']/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(150);
    const missing = [...used].filter((k) => !te(k, "en") || !te(k, "zh-CN"));
    expect(missing).toEqual([]);
  });

  it("has words for the codes the API sends", () => {
    const groups: Record<string, readonly string[]> = {
      "market.discover.sorts": SORTS,
      "market.appeal.reasons": APPEAL_REASONS,
      "market.appeal.outcomes": ["full", "partial", "reject"],
      "market.weekdays": ["0", "1", "2", "3", "4", "5", "6"],
      "market.review.star_words": ["1", "2", "3", "4", "5"],
      "market.bookings.status": ["requested", "confirmed", "starting", "in_call", "completed", "declined", "expired", "cancelled", "no_show_companion", "no_show_customer", "failed"],
      "market.bookings.tabs": ["upcoming", "requested", "history"],
      "market.support.categories": ["account", "payment", "session", "booking", "safety", "other"],
      "market.support.status": ["open", "answered", "closed"],
      "market.rooms.left": ["left", "closed", "funds", "away", "blocked", "media_lost", "server_lost"],
      "market.reasons": ["favourite", "matches_tag", "like_favourite", "similar_to_history", "talked_before", "new_companion", "highly_rated", "worth_a_try"],
      "market.review.why_not": ["session_not_paid", "review_window_closed", "already_reviewed", "not_customer"],
    };
    for (const [section, codes] of Object.entries(groups)) {
      for (const code of codes) for (const locale of ["en", "zh-CN"] as const) expect(te(`${section}.${code}`, locale), `${section}.${code} ${locale}`).toBe(true);
    }
  });

  it("translates the Chinese values the API stores", () => {
    i18n.global.locale.value = "en";
    expect(i18n.global.t("market.specialties.游戏陪玩")).toBe("Gaming buddy");
    expect(i18n.global.t("market.review_tags.耐心")).toBe("Patient");
    expect(i18n.global.t("market.weekdays.1")).toBe("Mon");
    expect(i18n.global.t("market.reasons.highly_rated", { rating: "4.80", count: "12" })).toBe("Rated 4.80 (12 reviews)");
  });
});
