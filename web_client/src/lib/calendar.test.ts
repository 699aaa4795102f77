import { describe, expect, it } from "vitest";
import { addDays, bookingGroup, cancelTerms, chinaDate, chinaTime, firstOpenDay, holdFen, minutesUntil, starts, weekday } from "./calendar";
import type { Booking } from "./market";

describe("China time", () => {
  it("shows instants at UTC+8 whatever the browser's zone", () => {
    expect(chinaTime("2026-01-05T02:30:00+00:00")).toBe("10:30");
    expect(chinaTime("2026-01-05T10:30:00+08:00")).toBe("10:30");
    expect(chinaDate("2026-01-04T16:00:00Z")).toBe("2026-01-05");
    expect(chinaDate("2026-01-04T15:59:00Z")).toBe("2026-01-04");
  });
  it("knows weekdays and adds days across months", () => {
    expect(weekday("2026-01-05")).toBe(1);
    expect(weekday("2026-01-04")).toBe(0);
    expect(addDays("2026-01-31", 1)).toBe("2026-02-01");
    expect(addDays("2026-12-31", 7)).toBe("2027-01-07");
  });
});

describe("slots for a duration", () => {
  const days = [
    { date: "2026-01-05", slots: ["2026-01-05T22:30:00+08:00", "2026-01-05T23:00:00+08:00", "2026-01-05T23:30:00+08:00"] },
    { date: "2026-01-06", slots: ["2026-01-06T00:00:00+08:00", "2026-01-06T10:00:00+08:00"] },
  ];
  it("marks a start bookable when every cell of the duration is free, across midnight too", () => {
    const s60 = starts(days, 60);
    expect(s60[0].choices.map((c) => [c.time, c.ok])).toEqual([
      ["22:30", true],
      ["23:00", true],
      ["23:30", true],
    ]);
    expect(s60[1].choices.map((c) => c.ok)).toEqual([false, false]);
    const s90 = starts(days, 90);
    expect(s90[0].choices.map((c) => c.ok)).toEqual([true, true, false]);
    const s30 = starts(days, 30);
    expect(s30.flatMap((d) => d.choices).every((c) => c.ok)).toBe(true);
  });
  it("keeps the instant the API gave (POST /api/bookings takes it back)", () => {
    expect(starts(days, 30)[1].choices[1].at).toBe("2026-01-06T10:00:00+08:00");
  });
  it("opens on the first day with a bookable start", () => {
    expect(firstOpenDay(starts([{ date: "2026-01-04", slots: [] }, ...days], 30))).toBe("2026-01-05");
    expect(firstOpenDay(starts([{ date: "2026-01-04", slots: [] }], 30))).toBe("2026-01-04");
    expect(firstOpenDay([])).toBeNull();
  });
});

describe("the hold", () => {
  it("is the rate times the duration, at most the hold minutes", () => {
    expect(holdFen(300, 30)).toBe(3000);
    expect(holdFen(300, 120)).toBe(3000);
    expect(holdFen(300, 5, 10)).toBe(1500);
  });
});

function booking(over: Partial<Booking>): Booking {
  return {
    id: "bkg_1",
    customer: { id: "u_c", nickname: "c" },
    companion: { id: "u_p", nickname: "p" },
    mode: "voice",
    starts_at: "2026-01-05T12:00:00+08:00",
    ends_at: "2026-01-05T13:00:00+08:00",
    duration_min: 60,
    rate_fen_per_min: 300,
    hold_fen: 3000,
    status: "confirmed",
    confirm_by: "2026-01-05T11:45:00+08:00",
    free_cancel_until: "2026-01-05T10:00:00+08:00",
    cancelled_by: null,
    reason: "",
    outcome: "",
    fee_fen: 0,
    released_fen: 0,
    call_id: null,
    created_at: "2026-01-04T12:00:00+08:00",
    ...over,
  };
}

describe("cancelling", () => {
  const at = (iso: string) => Date.parse(iso);
  it("is free before free_cancel_until, late after, impossible once the slot began", () => {
    expect(cancelTerms(booking({}), at("2026-01-05T09:59:00+08:00"))).toMatchObject({ can: true, free: true, why: "free" });
    expect(cancelTerms(booking({}), at("2026-01-05T10:00:00+08:00"))).toEqual({ can: true, free: false, holdFen: 3000 });
    expect(cancelTerms(booking({}), at("2026-01-05T12:00:00+08:00"))).toEqual({ can: false });
  });
  it("is free while the companion has not confirmed", () => {
    expect(cancelTerms(booking({ status: "requested" }), at("2026-01-05T11:00:00+08:00"))).toMatchObject({ can: true, free: true, why: "unconfirmed" });
  });
  it("is not offered for bookings that are over or under way", () => {
    for (const status of ["in_call", "starting", "completed", "cancelled", "expired"] as const) {
      expect(cancelTerms(booking({ status }), at("2026-01-05T08:00:00+08:00")).can).toBe(false);
    }
  });
  it("sorts bookings into the tabs", () => {
    expect(bookingGroup(booking({ status: "requested" }))).toBe("requested");
    expect(bookingGroup(booking({ status: "in_call" }))).toBe("upcoming");
    expect(bookingGroup(booking({ status: "no_show_customer" }))).toBe("history");
  });
  it("counts minutes until the slot", () => {
    expect(minutesUntil("2026-01-05T12:00:00+08:00", at("2026-01-05T11:45:30+08:00"))).toBe(15);
    expect(minutesUntil("2026-01-05T12:00:00+08:00", at("2026-01-05T12:30:00+08:00"))).toBe(0);
  });
});
