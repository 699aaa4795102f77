// What a logged-out visitor tapped (a favourite, a call) kept across the login, so that it is
// done once they are in instead of being lost.  Pure rules plus a small storage shell: the
// intent lives in sessionStorage (this tab only), for INTENT_TTL_MS, and is taken once.
import type { Mode } from "./types";

export const INTENT_TTL_MS = 15 * 60_000;
const KEY = "peiliao.intent";

export type Intent =
  | { kind: "favourite"; companionId: string; at: number }
  | { kind: "call"; companionId: string; mode: Mode; at: number };

const MODES: readonly string[] = ["text", "voice", "video"];
const ID = /^[A-Za-z0-9_-]{1,40}$/;

/** A stored intent, checked: anything malformed, stale or from the future is nothing. */
export function parseIntent(raw: string | null, now: number): Intent | null {
  if (!raw) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (typeof o.companionId !== "string" || !ID.test(o.companionId)) return null;
  if (typeof o.at !== "number" || o.at > now + 60_000 || now - o.at > INTENT_TTL_MS) return null;
  if (o.kind === "favourite") return { kind: "favourite", companionId: o.companionId, at: o.at };
  if (o.kind === "call" && typeof o.mode === "string" && MODES.includes(o.mode))
    return { kind: "call", companionId: o.companionId, mode: o.mode as Mode, at: o.at };
  return null;
}

/** The intent to replay on this companion's page, if the stored one is for them. */
export function intentFor(intent: Intent | null, companionId: string): Intent | null {
  return intent && intent.companionId === companionId ? intent : null;
}

interface Store {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
  removeItem(k: string): void;
}

function store(): Store | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage refused (private mode): the intent is simply not kept
  }
}

export function rememberIntent(intent: Intent, s: Store | null = store()): void {
  s?.setItem(KEY, JSON.stringify(intent));
}

/** Take (and forget) the intent for this companion: it is done at most once. */
export function takeIntent(companionId: string, now: number, s: Store | null = store()): Intent | null {
  if (!s) return null;
  const found = intentFor(parseIntent(s.getItem(KEY), now), companionId);
  if (found) s.removeItem(KEY);
  return found;
}
