// The marketplace as the customer sees it: the shapes the catalog, reviews, bookings, appeals,
// support and voice-room APIs return (their OpenAPI models; docs/protocol.md for events).
import type { Schema } from "./api";

/** A companion as discovery lists it (catalog/routes.py CompanionOut). */
export type Listing = Schema<"CompanionOut">;
export type Recommendation = Schema<"RecommendationOut">;
export type Review = Schema<"ReviewOut">;
export type MyReview = Schema<"MyReviewOut">;
export type SessionReview = Schema<"SessionReviewOut">;
export type Party = Schema<"PartyOut">;
export type SlotDay = Schema<"DayOut">;
export type Slots = Schema<"SlotsOut">;

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

export type Booking = Schema<"BookingOut">;
export type SessionFigures = Schema<"SessionFiguresOut">;
export type Appeal = Schema<"AppealOut">;
export type Meter = Schema<"MeterOut">;
export type TicketSummary = Schema<"TicketSummaryOut">;
export type TicketMessage = Schema<"MessageOut">;
export type Ticket = Schema<"TicketOut">;
export type RoomCard = Schema<"RoomCardOut">;
export type RoomMember = Schema<"MemberOut">;
export type Room = Schema<"RoomOut">;

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
