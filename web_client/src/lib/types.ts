export type Mode = "text" | "voice" | "video";
export type Role = "customer" | "companion" | "admin";

export interface Me {
  id: string;
  nickname: string;
  role: Role;
  tags: string[];
  avatar_url: string | null;
  phone: string;
}

export interface Party {
  id: string;
  nickname: string;
}

export interface CallObject {
  call_id: string;
  status: "ringing" | "active" | "ended";
  mode: Mode;
  rate_fen_per_min: number;
  customer: Party;
  companion: Party;
  created_ms: number;
  ring_deadline_ms: number;
  accepted_ms: number | null;
  accepted_device: string | null;
  ended_ms: number | null;
  end_reason: string | null;
  ended_by: string | null;
  away: { customer: boolean; companion: boolean };
  last_seq: number;
}

export interface Meter {
  call_id: string;
  status: string;
  rate_fen_per_min: number;
  billed_minutes: number;
  charged_fen?: number;
  balance_fen?: number;
  package_minutes?: number;
  minutes_left?: number;
  low_balance?: boolean;
  /** the companion's share so far (companions only) */
  earned_fen?: number;
}

export interface ChatMessage {
  call_id: string;
  seq: number;
  sender_id: string;
  client_id: string;
  text: string;
  moderation: string;
  sent_ms: number;
}

export interface Companion {
  id: string;
  nickname: string;
  tags: string[];
  avatar_url: string | null;
  level: string;
  rates: Record<Mode, number>;
  status: "online" | "busy" | "offline";
}

export interface Wallet {
  wallet_fen: number;
  promo_fen: number;
  held_fen: number;
  /** held for bookings not yet started */
  booked_fen: number;
  monthly_cap_fen: number | null;
  month_committed_fen: number;
}

export interface Ack<T = Record<string, unknown>> {
  ok: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
  data?: T;
}
