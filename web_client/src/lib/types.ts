// The shapes the API returns are its OpenAPI document's (lib/api.ts ``Schema``); the ones here
// that are not are Socket.IO's (docs/protocol.md).
import type { Schema } from "./api";

export type Mode = "text" | "voice" | "video";
export type Role = "customer" | "companion" | "admin";

export type Me = Schema<"MeOut">;
export type Party = Schema<"PartyOut">;

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

/** A call's meter as Socket.IO's call:meter carries it. */
export interface Meter {
  call_id: string;
  status: string;
  rate_fen_per_min: number;
  billed_minutes: number;
  charged_fen?: number;
  balance_fen?: number;
  /** held for the next minute, not spent: balance + held + spent is what the wallet had */
  held_fen?: number;
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

export type Wallet = Schema<"WalletOut">;

export interface Ack<T = Record<string, unknown>> {
  ok: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
  data?: T;
}
