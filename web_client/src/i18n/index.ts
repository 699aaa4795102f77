import { createI18n } from "vue-i18n";
import { messages } from "./messages";

export type Locale = "zh-CN" | "en";

export const i18n = createI18n({
  legacy: false,
  locale: "zh-CN",
  fallbackLocale: "zh-CN",
  messages,
});
