// What the companion's studio, the application and the admin screens read from the API
// (vetting/, bookings/, reviews/, appeals/, support/, voicerooms/, audit/ routes.py).
// The shapes both the customer and the work screens read are declared once, in lib/market.ts.
export type { Appeal, Party, RoomMember, SessionFigures } from "../market";
import type { Appeal, Party, RoomMember, SessionFigures } from "../market";

export type ModeName = "text" | "voice" | "video";

export interface RatesFen {
  text_fen_per_min: number;
  voice_fen_per_min: number;
  video_fen_per_min: number;
}

export interface AppFile {
  id: string;
  /** a certificate's specialty; "" for the voice sample */
  category: string;
  content_type: string;
  size_bytes: number;
  created_at: string;
  url: string;
}

export type ApplicationStatus = "draft" | "pending" | "approved" | "rejected";

export interface Application {
  id: string;
  status: ApplicationStatus;
  reapplication: boolean;
  specialties: string[];
  gender: Gender;
  intro: string;
  rates: RatesFen;
  reason: string;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  decided_at: string | null;
  voice_sample: AppFile | null;
  certificates: AppFile[];
  /** ``voice_sample``, ``certificate:<category>`` */
  missing: string[];
  can_submit: boolean;
}

export interface AdminApplication extends Application {
  user_id: string;
  nickname: string;
  role: string;
  real_name_masked: string | null;
  level: string | null;
  decided_by: string | null;
}

export type Gender = "female" | "male" | "";

export interface SpecialtiesInfo {
  specialties: string[];
  specialist: string[];
  max_specialties: number;
  intro_min_chars: number;
  intro_max_chars: number;
  voice_types: string[];
  certificate_types: string[];
  max_certificates: number;
}

export interface Bounds {
  min_fen: number;
  max_fen: number;
}

export type ModeBounds = Record<ModeName, Bounds>;

export interface Thresholds {
  min_minutes: number;
  min_reviews: number;
  min_rating_x100: number;
}

export interface LevelInfo {
  name: string;
  label: string;
  thresholds: Thresholds;
  commission_bp: number;
  rate_bounds: { normal: ModeBounds; specialist: ModeBounds };
}

export interface MyLevel {
  level: string;
  label: string;
  commission_bp: number;
  minutes: number;
  reviews: number;
  rating_x100: number;
  next: { name: string; label: string; thresholds: Thresholds; met: Record<string, boolean> } | null;
}

export interface RealNameState {
  verified: boolean;
  name_masked: string | null;
  id_number_masked: string | null;
  adult: boolean | null;
}

export interface Booking {
  id: string;
  customer: Party;
  companion: Party;
  mode: ModeName;
  starts_at: string;
  ends_at: string;
  duration_min: number;
  rate_fen_per_min: number;
  hold_fen: number;
  status: string;
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

export interface WeeklyRange {
  /** 0 = Monday … 6 = Sunday */
  weekday: number;
  start: string;
  end: string;
}

export interface Review {
  id: string;
  author: string;
  stars: number;
  tags: string[];
  text: string;
  created_at: string;
  updated_at: string;
  reply: { text: string; at: string } | null;
  /** null for the companion when the review is anonymous */
  session_id: string | null;
  companion_id: string;
  anonymous: boolean;
  hidden: boolean;
}

export interface AdminAppeal extends Appeal {
  decided_by: string | null;
  deciding: boolean;
  deciding_outcome: string | null;
  deciding_refund_fen: number;
  transcript: { seq: number; sender_id: string; text: string; at: string }[];
  transcript_truncated: boolean;
}

export interface TicketSummary {
  id: string;
  category: string;
  subject: string;
  session_id: string | null;
  booking_id: string | null;
  status: "open" | "answered" | "closed";
  message_count: number;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  closed_by: string | null;
  user_id: string;
  user_nickname: string;
  waiting_since: string | null;
}

export interface TicketMessage {
  seq: number;
  author: "user" | "staff";
  author_name: string;
  author_id: string;
  body: string;
  at: string;
}

export interface AdminTicket extends TicketSummary {
  messages: TicketMessage[];
}

export interface AuditEntry {
  id: number;
  admin_id: string;
  action: string;
  subject_type: string;
  subject_id: string;
  detail: Record<string, unknown>;
  at: string;
}

export interface Room {
  id: string;
  title: string;
  rate_fen_per_min: number;
  listeners: number;
  capacity: number;
  host: { id: string; nickname: string; avatar_url: string | null };
  created_at: string;
  status: string;
  members: RoomMember[];
  closed_at: string | null;
  close_reason: string | null;
  earned_fen: number | null;
}

/** The room object of Socket.IO acks and ``room:update`` (docs/protocol.md). */
export interface RoomEvent {
  room_id: string;
  status: string;
  title: string;
  rate_fen_per_min: number;
  capacity: number;
  host: { user_id: string; nickname: string };
  members: RoomMember[];
  close_reason: string | null;
}

export interface Report {
  id: string;
  reporter_id: string | null;
  target_id: string;
  call_id: string | null;
  message_seq: number | null;
  reason: string;
  details: string;
  created_at: string;
  evidence: {
    messages?: { seq: number; sender_id: string; text: string }[];
    reported_seq?: number | null;
    review?: {
      id: string;
      stars: number;
      tags: string[];
      text: string;
      reply_text: string;
    };
  };
}
