// The marketplace's refusals in words: the codes of the catalog, reviews, bookings, appeals,
// support and voice-room APIs (their errors.py) have keys under market.errors; anything else
// falls back to the shared lib/errors.ts.
import { ref } from "vue";
import { i18n } from "../i18n";
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
  const busy = ref(false);
  const error = ref<[string, Record<string, string>] | null>(null);
  const note = ref("");

  async function run(work: () => Promise<unknown>, done?: () => string): Promise<boolean> {
    error.value = null;
    note.value = "";
    busy.value = true;
    try {
      await work();
      if (done) note.value = done();
      return true;
    } catch (e) {
      error.value = describeMarket(e);
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, note, run };
}
