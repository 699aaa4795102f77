// What the companion's studio, the application and the admin screens read from the API
// (vetting/, bookings/, reviews/, appeals/, support/, voicerooms/, audit/ routes.py), by their
// names in the OpenAPI document; Socket.IO's shapes (docs/protocol.md) are written out.
import type { Schema } from "../api";
export type { Appeal, Booking, Party, RoomMember, SessionFigures } from "../market";

export type ModeName = "text" | "voice" | "video";

export type RatesFen = Schema<"market__vetting__application_routes__RatesOut">;
export type Application = Schema<"ApplicationOut">;
export type AdminApplication = Schema<"AdminApplicationOut">;

export type Gender = "female" | "male" | "";

export type SpecialtiesInfo = Schema<"SpecialtiesOut">;
export type Bounds = Schema<"BoundsOut">;
export type ModeBounds = Schema<"ModeBoundsOut">;
export type LevelInfo = Schema<"LevelOut">;
export type MyLevel = Schema<"MyLevelOut">;
export type RealNameState = Schema<"RealNameOut">;
export type WeeklyRange = Schema<"RangeOut">;
export type Review = Schema<"MyReviewOut">;
export type AdminAppeal = Schema<"AdminAppealOut">;
export type TicketSummary = Schema<"AdminTicketSummaryOut">;
export type TicketMessage = Schema<"AdminMessageOut">;
export type AdminTicket = Schema<"AdminTicketOut">;
export type AuditEntry = Schema<"AuditEntryOut">;
export type Room = Schema<"RoomOut">;

/** The room object of Socket.IO acks and ``room:update`` (docs/protocol.md). */
export type { RoomObject as RoomEvent } from "../market";

/** The moderation console's cases (moderation/case_routes.py). */
export type CaseSummary = Schema<"CaseOut">;
export type CaseDetail = Schema<"CaseDetailOut">;
export type CaseQueue = Schema<"CaseQueueOut">;
export type CaseParty = Schema<"CasePartyOut">;

/** A reported review as the server stored it with its report (a free-form object in the API's
 * document). */
export interface ReviewEvidence {
  id: string;
  stars: number;
  tags: string[];
  text: string;
  reply_text: string;
}
