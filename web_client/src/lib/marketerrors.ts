// The marketplace's refusals in words: the codes of the catalog, reviews, bookings, appeals,
// support and voice-room APIs (their errors.py) have keys under market.errors; anything else
// falls back to the shared lib/errors.ts.
import { i18n } from "../i18n";
import { useAction } from "./action";
import { ApiError } from "./api";
import { describe } from "./errors";
import { AckError } from "./realtime";

// The composer's own typing of te() is too deep for tsc to instantiate here.
const hasKey = (key: string): boolean => (i18n.global as unknown as { te: (k: string, locale: string) => boolean }).te(key, "zh-CN");

export function describeMarket(e: unknown): [string, Record<string, string>] {
  const code = e instanceof ApiError || e instanceof AckError ? e.code : "";
  const key = `market.errors.${code}`;
  if (code && hasKey(key)) return [key, {}];
  return describe(e);
}

/** lib/action.ts's useAction with the marketplace's error words. */
export function useMarketAction() {
  return useAction(describeMarket);
}
