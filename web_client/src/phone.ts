// Mirrors accounts/phone.py: a mainland mobile number is 1[3-9] + 9 digits; "+86", spaces and
// dashes are accepted on input.  The server is the authority; this only gives early feedback.
const MOBILE = /^1[3-9]\d{9}$/;

export function normalizePhone(raw: string): string | null {
  let s = raw.trim().replace(/[\s-]/g, "");
  if (s.startsWith("+86")) s = s.slice(3);
  else if (s.startsWith("0086")) s = s.slice(4);
  return MOBILE.test(s) ? s : null;
}
