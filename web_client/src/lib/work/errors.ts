// Error codes of the marketplace APIs the studio, the application and the admin screens meet,
// as i18n keys under ``werr`` (lib/errors.ts keeps the core ones).
import { ApiError } from "../api";
import { describe } from "../errors";
import { AckError } from "../realtime";

export const WORK_CODES = [
  // vetting
  "admin_cannot_apply",
  "application_pending",
  "application_decided",
  "application_incomplete",
  "application_not_found",
  "too_many_submissions",
  "reapply_cooldown",
  "reason_required",
  "certificate_not_found",
  "voice_sample_not_found",
  "too_many_certificates",
  "unknown_specialty",
  "no_specialty",
  "too_many_specialties",
  "intro_length",
  "intro_characters",
  "intro_contact_details",
  "rate_out_of_bounds",
  "rate_order",
  "invalid_category",
  "unsupported_audio_type",
  "voice_sample_too_large",
  "invalid_voice_sample",
  "unsupported_image_type",
  "certificate_too_large",
  "invalid_certificate",
  "not_companion",
  // bookings
  "companions_only",
  "invalid_availability",
  "booking_not_found",
  "booking_closed",
  "booking_confirmed",
  "booking_expired",
  "too_late_to_cancel",
  // reviews
  "review_not_found",
  "already_replied",
  "text_too_long",
  "text_refused",
  // appeals
  "appeal_not_found",
  "not_the_companion",
  "already_responded",
  "appeal_decided",
  "appeal_deciding",
  "nothing_to_refund",
  "invalid_refund_amount",
  "invalid_decision",
  "invalid_text",
  "refund_uncovered",
  "refund_too_large",
  // support
  "ticket_not_found",
  "ticket_closed",
  "ticket_full",
  // voice rooms
  "room_not_found",
  "not_room_host",
  "room_already_open",
  "too_many_rooms",
  "host_in_call",
  "title_length",
  "title_characters",
  "title_contact_details",
  "capacity_out_of_bounds",
  "rates_not_set",
  "draining",
  // moderation
  "report_not_found",
  "forbidden",
  "invalid_input",
  "invalid_amount",
  "session_not_ended",
  "payload_too_large",
  "unsupported_media_type",
] as const;

/** An i18n key and parameters for an error: the marketplace codes first, then the core ones. */
export function describeWork(e: unknown): [string, Record<string, string>] {
  const code = e instanceof ApiError || e instanceof AckError ? e.code : "";
  if ((WORK_CODES as readonly string[]).includes(code)) return ["werr." + code, {}];
  return describe(e);
}
