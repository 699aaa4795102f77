// The rules of a companion application as the form checks them before the server does
// (vetting/specialties.py, vetting/checklist.py, metering/tariff.py): the server stays the
// judge; this only tells the applicant early, in their language.
import { parseYuan } from "../money";
import type { LevelInfo, ModeBounds, ModeName, RatesFen } from "./types";

export const MODES: readonly ModeName[] = ["text", "voice", "video"];

/** The intro's length as the server counts it: code points of the NFC-normalized, trimmed text. */
export function introLength(text: string): number {
  return [...text.normalize("NFC").trim()].length;
}

/** Add or remove a specialty; adding beyond ``max`` changes nothing. */
export function toggleSpecialty(chosen: readonly string[], specialty: string, max: number): string[] {
  if (chosen.includes(specialty)) return chosen.filter((s) => s !== specialty);
  if (chosen.length >= max) return [...chosen];
  return [...chosen, specialty];
}

/** The chosen specialties that need a certificate, in the order chosen. */
export function certificateCategories(chosen: readonly string[], specialist: readonly string[]): string[] {
  return chosen.filter((s) => specialist.includes(s));
}

/** The rate bounds of a level (newcomer when unknown), with the specialist ceiling if asked. */
export function boundsFor(levels: readonly LevelInfo[], level: string | null, specialist: boolean): ModeBounds | null {
  const info = levels.find((l) => l.name === (level ?? "newcomer")) ?? levels[0];
  if (!info) return null;
  return specialist ? info.rate_bounds.specialist : info.rate_bounds.normal;
}

export type RateProblem =
  | { mode: ModeName; code: "invalid" }
  | { mode: ModeName; code: "low" | "high"; min_fen: number; max_fen: number }
  | { mode: "voice" | "video"; code: "order" };

/** What is wrong with the rates typed (yuan text) against the bounds; [] when nothing. */
export function rateProblems(typed: Record<ModeName, string>, bounds: ModeBounds | null): RateProblem[] {
  const problems: RateProblem[] = [];
  const fen: Partial<Record<ModeName, number>> = {};
  for (const mode of MODES) {
    const v = parseYuan(typed[mode]);
    if (v === null || v <= 0) {
      problems.push({ mode, code: "invalid" });
      continue;
    }
    fen[mode] = v;
    const b = bounds?.[mode];
    if (b && v < b.min_fen) problems.push({ mode, code: "low", ...b });
    if (b && v > b.max_fen) problems.push({ mode, code: "high", ...b });
  }
  if (fen.text !== undefined && fen.voice !== undefined && fen.voice < fen.text) problems.push({ mode: "voice", code: "order" });
  if (fen.voice !== undefined && fen.video !== undefined && fen.video < fen.voice) problems.push({ mode: "video", code: "order" });
  return problems;
}

/** The typed rates in fen, or null if one is not money. */
export function ratesFen(typed: Record<ModeName, string>): RatesFen | null {
  const text = parseYuan(typed.text);
  const voice = parseYuan(typed.voice);
  const video = parseYuan(typed.video);
  if (!text || !voice || !video) return null;
  return { text_fen_per_min: text, voice_fen_per_min: voice, video_fen_per_min: video };
}

/** fen → the text of a yuan input ("1.50"). */
export function yuanText(fen: number): string {
  return (fen / 100).toFixed(2);
}

export interface DraftForm {
  specialties: string[];
  intro: string;
  rates: Record<ModeName, string>;
}

export interface FormLimits {
  max_specialties: number;
  intro_min_chars: number;
  intro_max_chars: number;
}

/** Problems of the form as i18n keys under ``become.problems`` (with parameters), in form order. */
export function draftProblems(form: DraftForm, limits: FormLimits, bounds: ModeBounds | null): [string, Record<string, string | number>][] {
  const out: [string, Record<string, string | number>][] = [];
  if (form.specialties.length === 0) out.push(["no_specialty", {}]);
  if (form.specialties.length > limits.max_specialties) out.push(["too_many_specialties", { max: limits.max_specialties }]);
  const n = introLength(form.intro);
  if (n < limits.intro_min_chars || n > limits.intro_max_chars) {
    out.push(["intro_length", { min: limits.intro_min_chars, max: limits.intro_max_chars }]);
  }
  for (const p of rateProblems(form.rates, bounds)) {
    if (p.code === "invalid") out.push(["rate_invalid", { mode: p.mode }]);
    else if (p.code === "order") out.push([`rate_order_${p.mode}`, {}]);
    else out.push(["rate_bounds", { mode: p.mode, min: p.min_fen, max: p.max_fen }]);
  }
  return out;
}

/** A ``missing`` item of the API: the voice sample, or the certificate of a category. */
export function parseMissing(item: string): { kind: "voice_sample" } | { kind: "certificate"; category: string } | { kind: "other"; item: string } {
  if (item === "voice_sample") return { kind: "voice_sample" };
  if (item.startsWith("certificate:")) return { kind: "certificate", category: item.slice("certificate:".length) };
  return { kind: "other", item };
}
