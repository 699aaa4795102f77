import { describe, expect, it } from "vitest";
import { copyDay, dayCells, hhmm, normalize, rangeProblem, sameWeek, suggestRange, timeOptions, toMinutes, weeklyHours } from "./availability";

const r = (weekday: number, start: string, end: string) => ({ weekday, start, end });

describe("weekly availability", () => {
  it("reads and writes times on the half hour, 24:00 ending the day", () => {
    expect(toMinutes("09:30")).toBe(570);
    expect(toMinutes("24:00")).toBe(1440);
    expect(toMinutes("09:15")).toBeNull();
    expect(toMinutes("24:30")).toBeNull();
    expect(toMinutes("9:30")).toBeNull();
    expect(hhmm(1440)).toBe("24:00");
    const options = timeOptions();
    expect(options).toHaveLength(49);
    expect(options[0]).toBe("00:00");
    expect(options[48]).toBe("24:00");
  });

  it("refuses a range that ends before it starts", () => {
    expect(rangeProblem(r(0, "10:00", "10:00"))).toBe("end_before_start");
    expect(rangeProblem(r(0, "10:00", "09:00"))).toBe("end_before_start");
    expect(rangeProblem(r(7, "10:00", "11:00"))).toBe("bad_time");
    expect(rangeProblem(r(6, "23:30", "24:00"))).toBeNull();
  });

  it("merges overlapping and touching ranges of a day, never across days", () => {
    const merged = normalize([r(2, "20:00", "22:00"), r(0, "10:00", "12:00"), r(0, "11:00", "13:00"), r(0, "13:00", "14:00"), r(1, "14:00", "15:00"), r(0, "18:00", "19:00")]);
    expect(merged).toEqual([r(0, "10:00", "14:00"), r(0, "18:00", "19:00"), r(1, "14:00", "15:00"), r(2, "20:00", "22:00")]);
    expect(normalize([r(0, "12:00", "10:00")])).toEqual([]);
  });

  it("shows which half hours of a day are offered", () => {
    const cells = dayCells([r(0, "00:00", "01:00"), r(0, "23:30", "24:00"), r(1, "05:00", "06:00")], 0);
    expect(cells).toHaveLength(48);
    expect(cells.filter(Boolean)).toHaveLength(3);
    expect(cells[0] && cells[1] && cells[47]).toBe(true);
  });

  it("counts the hours of a week once, overlaps included", () => {
    expect(weeklyHours([r(0, "10:00", "12:00"), r(0, "11:00", "12:30"), r(3, "20:00", "24:00")])).toBe(6.5);
  });

  it("suggests the next two hours of a day, within the day", () => {
    expect(suggestRange([], 4)).toEqual(r(4, "20:00", "22:00"));
    expect(suggestRange([r(4, "09:00", "12:00")], 4)).toEqual(r(4, "12:00", "14:00"));
    expect(suggestRange([r(4, "20:00", "23:00")], 4)).toEqual(r(4, "23:00", "24:00"));
    expect(suggestRange([r(4, "20:00", "24:00")], 4)).toEqual(r(4, "23:30", "24:00"));
  });

  it("copies a day to the others, replacing their ranges", () => {
    const week = copyDay([r(0, "10:00", "12:00"), r(1, "08:00", "09:00"), r(2, "14:00", "15:00")], 0, [0, 1, 2, 3, 4, 5, 6]);
    expect(week).toHaveLength(7);
    expect(week.every((x) => x.start === "10:00" && x.end === "12:00")).toBe(true);
  });

  it("compares weeks by their hours", () => {
    expect(sameWeek([r(0, "10:00", "11:00"), r(0, "11:00", "12:00")], [r(0, "10:00", "12:00")])).toBe(true);
    expect(sameWeek([r(0, "10:00", "11:00")], [r(1, "10:00", "11:00")])).toBe(false);
  });
});
