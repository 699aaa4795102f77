import { ApiError } from "./api";
import { AckError } from "./realtime";

/** An i18n key and its parameters for any error a view can meet. */
export function describe(e: unknown): [string, Record<string, string>] {
  const code = e instanceof ApiError || e instanceof AckError ? e.code : "";
  const known = [
    "network",
    "insufficient_funds",
    "companion_offline",
    "companion_busy",
    "already_in_call",
    "blocked",
    "budget_exceeded",
    "invalid_code",
    "rate_limited",
    "account_busy",
    "balance_not_empty",
    "real_name_required",
    "minor_not_allowed",
    "real_name_mismatch",
    "too_many_attempts",
    "id_in_use",
    "session_revoked",
  ];
  if (known.includes(code)) return ["errors." + code, {}];
  return ["errors.generic", { message: e instanceof Error ? e.message : String(e) }];
}
