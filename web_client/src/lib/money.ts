// Money is integer fen (分) everywhere; only the display turns it into yuan.

export function yuan(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** Parse what a person types as yuan ("12", "12.5", "¥12.50") into fen; null if it is not money. */
export function parseYuan(text: string): number | null {
  const m = /^\s*¥?\s*(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}

/** Whole minutes the balance (and prepaid minutes) still pays for at a rate. */
export function minutesLeft(balanceFen: number, rateFenPerMin: number, packageMinutes = 0): number {
  if (rateFenPerMin <= 0) return Infinity;
  return Math.max(0, Math.floor(balanceFen / rateFenPerMin)) + Math.max(0, packageMinutes);
}

/** m:ss or h:mm:ss of a duration in milliseconds. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
