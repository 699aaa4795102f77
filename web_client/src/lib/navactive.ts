// Which item of the header's nav is highlighted: exactly one at most.  Vue Router's own
// "active" class ignores the query, so a companion on /studio?tab=money had both 钱包
// (/studio?tab=money) and 接单台 (/studio) lit at once.

/** The nav target (as written in the nav, e.g. "/studio?tab=money") that stands for the page at
 * ``path`` with ``query``: among targets whose path is the page's path or a parent of it, the
 * one whose query the page matches most specifically; a target with a query the page does not
 * have never matches.  Null when none does. */
export function activeNav(targets: readonly string[], path: string, query: Record<string, unknown>): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const target of targets) {
    const [tPath, tQuery = ""] = target.split("?", 2);
    const under = path === tPath || (tPath !== "/" && path.startsWith(`${tPath}/`));
    if (!under) continue;
    const wanted = [...new URLSearchParams(tQuery)];
    if (!wanted.every(([k, v]) => first(query[k]) === v)) continue;
    // an exact path beats a parent; then more query terms matched beat fewer
    const score = (path === tPath ? 1000 : tPath.length) + wanted.length;
    if (score > bestScore) [best, bestScore] = [target, score];
  }
  return best;
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}
