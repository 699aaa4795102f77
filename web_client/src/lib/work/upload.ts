// Raw uploads (a voice sample, a certificate image) with any method: lib/api.ts's ``upload`` only
// PUTs.  The CSRF token is the readable cookie the server sets with the session (the page
// echoes it in X-CSRF-Token, as lib/api.ts does).
import { ApiError } from "../api";

function csrfCookie(): string {
  const m = /(?:^|;\s*)peiliao_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function sendFile<T>(method: "PUT" | "POST", path: string, file: Blob, type = file.type): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", "Content-Type": type };
  const token = csrfCookie();
  if (token) headers["X-CSRF-Token"] = token;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", body: file });
  } catch {
    throw new ApiError(0, "network", "network error");
  }
  const data = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? "http_" + res.status, data?.error?.message ?? res.statusText);
  return data as T;
}
