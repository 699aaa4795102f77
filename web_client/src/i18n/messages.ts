// The UI strings, one file per language for each part of the app, merged by top-level section.
// core: everything that came first; market: what customers use in the marketplace (discovery,
// reviews, bookings, appeals, tickets, voice rooms); work: companions' studio and admin screens;
// money: statements, the wallet's figures and a companion's earnings;
// discover: onboarding, the 404 and access-denied pages, discovery's notes;
// fair: the fair service's figures and rule; errors: every error code's words (lib/errors.ts).
import coreEn from "./en.json";
import coreZh from "./zh-CN.json";
import marketEn from "./market/en.json";
import marketZh from "./market/zh-CN.json";
import workEn from "./work/en.json";
import workZh from "./work/zh-CN.json";
import moneyEn from "./money/en.json";
import moneyZh from "./money/zh-CN.json";
import discoverEn from "./discover/en.json";
import discoverZh from "./discover/zh-CN.json";
import errorsEn from "./errors/en.json";
import errorsZh from "./errors/zh-CN.json";
import fairEn from "./fair/en.json";
import fairZh from "./fair/zh-CN.json";

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
  money: { "zh-CN": moneyZh as Dict, en: moneyEn as Dict },
  discover: { "zh-CN": discoverZh as Dict, en: discoverEn as Dict },
  errors: { "zh-CN": errorsZh as Dict, en: errorsEn as Dict },
  fair: { "zh-CN": fairZh as Dict, en: fairEn as Dict },
};

// Every part, in each language (a new part needs only its line in ``parts``).
const all = Object.values(parts);
export const messages = {
  "zh-CN": merge(...all.map((p) => p["zh-CN"])),
  en: merge(...all.map((p) => p.en)),
};
