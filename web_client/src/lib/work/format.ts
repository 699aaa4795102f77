// Dates of bookings and availability are China time (the server's calendar is Asia/Shanghai), so
// a companion abroad sees the same hours their customers book.
export const CHINA_TZ = "Asia/Shanghai";

export function chinaDateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone: CHINA_TZ,
    month: "numeric",
    day: "numeric",
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  }).format(new Date(iso));
}

export function chinaTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: CHINA_TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

export function dateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** "★★★★☆" for 4 of 5. */
export function stars(n: number, max = 5): string {
  const k = Math.max(0, Math.min(max, Math.round(n)));
  return "★".repeat(k) + "☆".repeat(max - k);
}

/** A rating ×100 as "4.60". */
export function rating(x100: number): string {
  return (x100 / 100).toFixed(2);
}

/** Basis points as a percentage ("30%", "25.5%"). */
export function percent(bp: number): string {
  return `${Number((bp / 100).toFixed(2))}%`;
}

/** A fresh idempotency key for a request the user may resend. */
export function requestKey(prefix: string): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A duration as an i18n key of ``console.cases`` and its parameters: under a minute, minutes,
 * hours or days (rounded down). */
export function span(seconds: number): [string, Record<string, number>] {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return ["console.cases.under_minute", {}];
  if (s < 3600) return ["console.cases.minutes", { n: Math.floor(s / 60) }];
  if (s < 86400) return ["console.cases.hours_ago", { n: Math.floor(s / 3600) }];
  return ["console.cases.days", { n: Math.floor(s / 86400) }];
}

/** A countdown as "m:ss". */
export function countdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
