import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { messages } from "../../i18n/messages";
import { describeWork, WORK_CODES } from "./errors";

describe("marketplace error codes", () => {
  it("have a message in both languages", () => {
    for (const lang of ["zh-CN", "en"] as const) {
      for (const code of WORK_CODES) expect(messages[lang].werr[code], `${lang} ${code}`).toBeTruthy();
    }
  });

  it("map to their message, else to the core ones", () => {
    expect(describeWork(new ApiError(409, "already_replied", "x"))).toEqual(["werr.already_replied", {}]);
    expect(describeWork(new ApiError(400, "real_name_required", "x"))).toEqual(["errors.real_name_required", {}]);
    expect(describeWork(new ApiError(500, "internal", "boom"))).toEqual(["errors.generic", { message: "boom" }]);
  });
});
