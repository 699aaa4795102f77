// Every refusal in words, in one place.  The server's error codes (src/api/error-codes.json,
// generated from the server: `python -m peiliao.contract`) and the client's own (below) each have
// a wording under `errors.<code>` in both languages (i18n/errors/); lib/errors.test.ts fails on a
// code without one.  The server's `message` is for developers and is never shown: a code with no
// wording (a newer server) reads as the generic wording with the code.
import { i18n } from "../i18n";
import { ApiError } from "./api";
import { AckError } from "./realtime";

/** Codes the client raises itself: the fetch failed; the login ended while connected. */
export const CLIENT_CODES = ["network", "session_revoked"] as const;

/** An i18n key and its parameters. */
export type Problem = [string, Record<string, string>];

// The composer's own typing of te() is too deep for tsc to instantiate here.
const hasKey = (key: string): boolean => (i18n.global as unknown as { te: (k: string, locale: string) => boolean }).te(key, "zh-CN");

/** The error's machine-readable code: the server's, the client's, or "unexpected" for a fault
 * in the page itself. */
export function errorCode(e: unknown): string {
  return e instanceof ApiError || e instanceof AckError ? e.code : "unexpected";
}

/** An i18n key and its parameters for any error a view can meet. */
export function describe(e: unknown): Problem {
  const code = errorCode(e);
  if (code !== "generic" && /^[a-z][a-z0-9_]*$/.test(code) && hasKey(`errors.${code}`)) return [`errors.${code}`, {}];
  return ["errors.generic", { code }];
}
