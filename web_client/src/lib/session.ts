// Who is signed in.  The session cookie is HttpOnly; the CSRF token comes with it.
import { reactive } from "vue";
import { api, ApiError, setCsrf } from "./api";
import type { Me } from "./types";

export const session = reactive<{ me: Me | null; ready: boolean }>({ me: null, ready: false });

/** The CSRF cookie is readable by the page and set with the session cookie: without it there is
 * no session to restore (and no 401 to log in the console). */
function csrfCookie(): string {
  const m = /(?:^|;\s*)peiliao_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function restore(): Promise<void> {
  if (!csrfCookie()) {
    session.ready = true;
    return;
  }
  try {
    const out = await api.get("/api/auth/session");
    setCsrf(out.csrf_token ?? "");
    session.me = out.user;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    session.me = null;
  } finally {
    session.ready = true;
  }
}

export async function requestCode(phone: string): Promise<void> {
  await api.post("/api/auth/sms-code", { body: { phone } });
}

/** Log in; ``newUser``: the account was made by this login (the first one: onboarding). */
export async function login(phone: string, code: string): Promise<{ me: Me; newUser: boolean }> {
  const out = await api.post("/api/auth/login", { body: { phone, code, client: "browser" } });
  setCsrf(out.csrf_token ?? "");
  session.me = out.user;
  return { me: out.user, newUser: out.new_user };
}

export async function logout(): Promise<void> {
  try {
    await api.post("/api/auth/logout");
  } finally {
    session.me = null;
    setCsrf("");
  }
}
