// An audit entry's detail (a JSON object the server wrote) as lines a person reads: known keys
// named, amounts in yuan, codes in words; never raw JSON.  Pure: the words come from ``word``.
import { yuan } from "./money";

export interface DetailLine {
  key: string;
  /** an i18n key for the name, or null: ``key`` itself, made readable */
  nameKey: string | null;
  value: string;
}

const KNOWN = ["sanction_id", "kind", "requested", "reason", "note", "case_id", "session_id", "outcome", "refund_fen", "amount_fen", "seq", "user_id", "host_id", "title", "status", "level", "review_id"];
const MAX_LINES = 12;
const MAX_VALUE = 200;

/** ``word(section, value)``: the words of a code value, or null when there are none. */
export type Words = (section: "kind" | "outcome" | "yes" | "no", value: string) => string | null;

function text(key: string, v: unknown, word: Words): string {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return word(v ? "yes" : "no", "") ?? String(v);
  if (typeof v === "number" && key.endsWith("_fen")) return yuan(v);
  if (typeof v === "string" && (key === "kind" || key === "requested")) return word("kind", v) ?? v;
  if (typeof v === "string" && key === "outcome") return word("outcome", v) ?? v;
  if (Array.isArray(v)) return v.map((x) => text("", x, word)).join("、");
  if (typeof v === "object")
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k.replace(/_/g, " ")} ${text(k, x, word)}`)
      .join("，");
  return String(v);
}

export function detailLines(detail: Record<string, unknown> | null | undefined, word: Words): DetailLine[] {
  return Object.entries(detail ?? {})
    .slice(0, MAX_LINES)
    .map(([key, v]) => ({
      key,
      nameKey: KNOWN.includes(key) ? `audit_detail.keys.${key}` : null,
      value: text(key, v, word).slice(0, MAX_VALUE),
    }));
}
