// The UI strings, one file per language for each part of the app, merged by top-level section.
// core: everything that came first; market: what customers use in the marketplace (discovery,
// reviews, bookings, appeals, tickets, voice rooms); work: companions' studio and admin screens;
// errors: every error code's words (lib/errors.ts).
import coreEn from "./en.json";
import coreZh from "./zh-CN.json";
import marketEn from "./market/en.json";
import marketZh from "./market/zh-CN.json";
import workEn from "./work/en.json";
import workZh from "./work/zh-CN.json";
import errorsEn from "./errors/en.json";
import errorsZh from "./errors/zh-CN.json";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Dict = Record<string, any>;

/** Merge message files; a top-level section belongs to one file only. */
export function merge(...parts: Dict[]): Dict {
  const out: Dict = {};
  for (const part of parts) {
    for (const [section, value] of Object.entries(part)) {
      if (section in out) throw new Error(`i18n section "${section}" is defined twice`);
      out[section] = value;
    }
  }
  return out;
}

export const parts = {
  core: { "zh-CN": coreZh as Dict, en: coreEn as Dict },
  market: { "zh-CN": marketZh as Dict, en: marketEn as Dict },
  work: { "zh-CN": workZh as Dict, en: workEn as Dict },
  errors: { "zh-CN": errorsZh as Dict, en: errorsEn as Dict },
};

export const messages = {
  "zh-CN": merge(parts.core["zh-CN"], parts.market["zh-CN"], parts.work["zh-CN"], parts.errors["zh-CN"]),
  en: merge(parts.core.en, parts.market.en, parts.work.en, parts.errors.en),
};
