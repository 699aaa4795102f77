import { describe, expect, it } from "vitest";
import { messages } from "../i18n/messages";
import { CHAT_WORDED, wordFor } from "./callwords";

function lookup(dict: Record<string, unknown>, key: string): unknown {
  return key.split(".").reduce<unknown>((d, k) => (d && typeof d === "object" ? (d as Record<string, unknown>)[k] : undefined), dict);
}

describe("call words", () => {
  it("uses chat words for a text session and call words for voice and video", () => {
    expect(wordFor("text", "incoming.title")).toBe("incoming.chat.title");
    expect(wordFor("text", "call.hang_up")).toBe("call.chat.hang_up");
    expect(wordFor("voice", "incoming.title")).toBe("incoming.title");
    expect(wordFor("video", "call.hang_up")).toBe("call.hang_up");
    expect(wordFor("text", "call.send")).toBe("call.send"); // no chat word of its own
  });

  it("has every chat word in both languages, and they are not the call words", () => {
    for (const locale of ["zh-CN", "en"] as const) {
      for (const key of CHAT_WORDED) {
        const chat = lookup(messages[locale], wordFor("text", key));
        expect(typeof chat === "string" && chat.length > 0, `${locale} ${key}`).toBe(true);
        expect(chat, `${locale} ${key}`).not.toEqual(lookup(messages[locale], key));
      }
    }
    expect(lookup(messages["zh-CN"], "incoming.chat.title")).toBe("新的聊天请求");
    expect(lookup(messages["zh-CN"], "incoming.chat.accept")).toBe("开始聊天");
    expect(lookup(messages["zh-CN"], "call.chat.hang_up")).toBe("结束聊天");
  });

  it("never words a text session as a call in Chinese", () => {
    for (const key of CHAT_WORDED) {
      const chat = String(lookup(messages["zh-CN"], wordFor("text", key)));
      expect(chat, key).not.toMatch(/来电|接听|挂断|通话|呼叫/);
    }
  });
});
