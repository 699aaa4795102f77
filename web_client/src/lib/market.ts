// The marketplace as the customer sees it: the shapes the catalog, reviews, bookings, appeals,
// support and voice-room APIs return (their routes.py models; docs/protocol.md for events).
import type { Companion, Mode } from "./types";

/** A companion as discovery lists it (catalog/routes.py CompanionOut). */
export interface Listing extends Companion {
  gender: "female" | "male" | "";
  intro: string;
  specialties: string[];
  /** the specialist categories a certificate was accepted for */
  certified: string[];
  voice_sample_url: string | null;
  /** the Bayesian rating × 100 (unreviewed companions have the prior, 450) */
  rating_x100: number;
  rating_count: number;
  /** completed paid sessions */
  orders: number;
}

export interface ListingPage {
  companions: Listing[];
  next_cursor: string | null;
}

export interface Recommendation {
  companion: Listing;
  reason_code: string;
  params: Record<string, string>;
  reason: string;
}

export interface Reply {
  text: string;
  at: string;
}

export interface Review {
  id: string;
  author: string;
  stars: number;
  tags: string[];
  text: string;
  created_at: string;
  updated_at: string;
  reply: Reply | null;
}

export interface MyReview extends Review {
  /** null for the companion when the review is anonymous */
  session_id: string | null;
  companion_id: string;
  anonymous: boolean;
  hidden: boolean;
}

export interface SessionReview {
  review: MyReview | null;
  can_review: boolean;
  open_until: string | null;
  /** session_not_ended | session_not_paid | review_window_closed | already_reviewed | not_customer */
  reason: string | null;
}

export interface Party {
  id: string;
  nickname: string;
}

export interface SlotDay {
  /** YYYY-MM-DD, China time */
  date: string;
  /** ISO instants of free half-hour cells */
  slots: string[];
}

export interface Slots {
  companion_id: string;
  timezone: string;
  slot_min: number;
  durations_min: number[];
  days: SlotDay[];
}

export type BookingStatus =
  | "requested"
  | "confirmed"
  | "starting"
  | "in_call"
  | "completed"
  | "declined"
  | "expired"
  | "cancelled"
  | "no_show_companion"
  | "no_show_customer"
  | "failed";

export interface Booking {
  id: string;
  customer: Party;
  companion: Party;
  mode: Mode;
  starts_at: string;
  ends_at: string;
  duration_min: number;
  rate_fen_per_min: number;
  hold_fen: number;
  status: BookingStatus;
  confirm_by: string;
  free_cancel_until: string;
  cancelled_by: string | null;
  reason: string;
  outcome: string;
  fee_fen: number;
  released_fen: number;
  call_id: string | null;
  created_at: string;
}

export interface BookingPage {
  bookings: Booking[];
  next_cursor: string | null;
}

export interface SessionFigures {
  id: string;
  mode: string;
  rate_fen_per_min: number;
  billed_minutes: number;
  charged_fen: number;
  refunded_fen: number;
  ended_at: string | null;
}

export interface Appeal {
  id: string;
  session: SessionFigures;
  customer: Party;
  companion: Party;
  reason: string;
  text: string;
  status: "open" | "decided";
  response_text: string;
  responded_at: string | null;
  outcome: "full" | "partial" | "reject" | null;
  refund_fen: number;
  decision_reason: string;
  decided_at: string | null;
  created_at: string;
}

export interface Meter {
  session_id: string;
  status: string;
  mode: string;
  rate_fen_per_min: number;
  billed_minutes: number;
  charged_fen: number;
  refunded_fen: number;
  balance_fen: number;
  package_minutes: number;
  minutes_left: number;
  low_balance: boolean;
  end_reason: string | null;
}

export interface TicketSummary {
  id: string;
  category: string;
  subject: string;
  session_id: string | null;
  booking_id: string | null;
  /** open (waiting for staff) | answered (waiting for me) | closed */
  status: "open" | "answered" | "closed";
  message_count: number;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_by: string | null;
}

export interface TicketMessage {
  seq: number;
  author: "user" | "staff";
  author_name: string;
  body: string;
  at: string;
}

export interface Ticket extends TicketSummary {
  messages: TicketMessage[];
}

export interface RoomCard {
  id: string;
  title: string;
  rate_fen_per_min: number;
  /** members in the room now, the host not counted */
  listeners: number;
  capacity: number;
  host: { id: string; nickname: string; avatar_url: string | null };
  created_at: string;
}

export interface RoomMember {
  user_id: string;
  nickname: string;
  role: "host" | "member";
}

export interface Room extends RoomCard {
  status: "open" | "closed";
  members: RoomMember[];
  closed_at: string | null;
  close_reason: string | null;
}

/** The room object of Socket.IO acks and room:update. */
export interface RoomObject {
  room_id: string;
  status: "open" | "closed";
  title: string;
  rate_fen_per_min: number;
  capacity: number;
  host: { user_id: string; nickname: string };
  members: RoomMember[];
  close_reason: string | null;
}

export interface RoomMeter {
  room_id: string;
  status?: string;
  rate_fen_per_min?: number;
  billed_minutes: number;
  charged_fen?: number;
  balance_fen?: number;
  minutes_left?: number;
  low_balance?: boolean;
  earned_fen?: number;
}

/** A fresh idempotency key (8–64 of A-Z a-z 0-9 _ -). */
export function requestId(): string {
  return crypto.randomUUID().replace(/-/g, "");
}
