// The price bounds that apply to me as a companion: my level's (GET /api/levels, my rates' level),
// with the specialist ceiling once a specialist category of mine is certified.
import { api } from "../api";
import { boundsFor } from "./application";
import type { ModeBounds, RatesFen } from "./types";

export interface MyPrices {
  level: string | null;
  specialist: boolean;
  bounds: ModeBounds | null;
  rates: RatesFen | null;
}

export async function myPrices(myId: string): Promise<MyPrices> {
  const [levels, mine] = await Promise.all([
    api.get("/api/levels"),
    api.get("/api/me/rates"),
  ]);
  // Only a companion with rates is listed (and so has a public profile to read).
  const specialist = mine.rates
    ? (await api.get("/api/companions/{companion_id}", { params: { path: { companion_id: myId } } })).certified.length > 0
    : false;
  const level = mine.rates?.level ?? null;
  return { level, specialist, bounds: boundsFor(levels.levels, level, specialist), rates: mine.rates };
}
