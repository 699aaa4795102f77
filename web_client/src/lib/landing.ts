// Where a user lands and which pages are whose: pure rules the router and the login use.
export type Role = "customer" | "companion" | "admin";

/** The first screen of each role: customers browse, companions work, admins moderate. */
export function landing(role: string | null | undefined): string {
  if (role === "companion") return "/studio";
  if (role === "admin") return "/admin";
  return "/companions";
}

/** Where to go after login: ``next`` if it is a path of this site (never another origin, never
 * the login page again), else the role's landing. */
export function safeNext(next: unknown, role: string | null | undefined): string {
  const n = Array.isArray(next) ? next[0] : next;
  if (typeof n === "string" && n.startsWith("/") && !n.startsWith("//") && !n.startsWith("/\\") && !n.startsWith("/login") && !n.startsWith("/welcome")) return n;
  return landing(role);
}

/** The role a page is for, if it is for one only (the server refuses the rest anyway). */
export function pageRole(path: string): Role | null {
  if (path === "/admin" || path.startsWith("/admin/")) return "admin";
  return null;
}
