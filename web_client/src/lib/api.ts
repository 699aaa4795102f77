// The HTTP API, typed by the server's OpenAPI document (src/api/schema.d.ts, generated from
// src/api/openapi.json: `npm run api:types`).  Same-origin fetch with the session cookie; unsafe
// methods carry the CSRF token.  A refusal comes back as ApiError with the server's
// machine-readable code (lib/errors.ts words it); a call answers with its JSON body.
//
//   const wallet = await api.get("/api/wallet");
//   await api.post("/api/tickets/{ticket_id}/messages", { path: { ticket_id }, body: { body } });
import createClient, { type MaybeOptionalInit } from "openapi-fetch";
import type { HttpMethod, PathsWithMethod, RequiredKeysOf, SuccessResponseJSON } from "openapi-typescript-helpers";
import type { components, paths } from "../api/schema";

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    /** the refusal's data (a refused login's sanction and appeal token); never its words */
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A model of the server's API by its name in the document (``WalletOut``, ``TicketOut``…). */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

let csrf = "";

export function setCsrf(token: string): void {
  csrf = token;
}

type QueryValue = string | number | boolean | null | undefined;

/** A query string (with its "?"), leaving out empty values; "" when nothing is left. */
function query(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

const client = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? "",
  // looked up at each call (not once, at load), so a test can stand in for it
  fetch: (request) => globalThis.fetch(request),
  credentials: "same-origin",
  headers: { Accept: "application/json" },
  querySerializer: (params) => query(params as Record<string, QueryValue>).slice(1),
});
client.use({
  onRequest({ request }) {
    if (request.method !== "GET" && csrf) request.headers.set("X-CSRF-Token", csrf);
    return request;
  },
});

type Method = Extract<HttpMethod, "get" | "put" | "post" | "patch" | "delete">;
type Init<M extends Method, P extends PathsWithMethod<paths, M>> = MaybeOptionalInit<paths[P], M>;
/** The init argument, optional when the endpoint needs no parameters and no body. */
type InitArg<I> = RequiredKeysOf<I> extends never ? [init?: I] : [init: I];
/** What a call answers with: its JSON body (``undefined`` for an endpoint with none). */
export type Answer<M extends Method, P extends PathsWithMethod<paths, M>> =
  paths[P][M] extends Record<string | number, unknown> ? SuccessResponseJSON<paths[P][M]> : never;

interface Outcome {
  data?: unknown;
  error?: unknown;
  response: Response;
}

async function settle(outcome: () => Promise<Outcome>): Promise<unknown> {
  let out: Outcome;
  try {
    out = await outcome();
  } catch {
    throw new ApiError(0, "network", "network error");
  }
  if (out.response.ok) return out.data;
  const err = (out.error as { error?: { code?: string; message?: string; details?: Record<string, unknown> | null } } | undefined)?.error;
  throw new ApiError(out.response.status, err?.code ?? "http_" + out.response.status, err?.message ?? out.response.statusText, err?.details ?? {});
}

// The typing is the methods' below; openapi-fetch's own generic signature adds nothing here.
const request = client.request as (method: string, path: string, init?: object) => Promise<Outcome>;

function method<M extends Method>(name: M) {
  return <P extends PathsWithMethod<paths, M>>(path: P, ...init: InitArg<Init<M, P>>): Promise<Answer<M, P>> =>
    settle(() => request(name, path, init[0])) as Promise<Answer<M, P>>;
}

/** The API's endpoints by method: ``api.get(path, { params, body })`` answers with the body. */
export const api = {
  get: method("get"),
  put: method("put"),
  post: method("post"),
  patch: method("patch"),
  delete: method("delete"),
};

/** Upload raw bytes (an image, a recording) as ``type`` (the file's own by default). */
export function upload<M extends "put" | "post", P extends PathsWithMethod<paths, M>>(
  verb: M,
  path: P,
  file: Blob,
  options: { type?: string; params?: { path?: Record<string, string>; query?: Record<string, QueryValue> } } = {},
): Promise<Answer<M, P>> {
  const init = {
    params: options.params,
    body: file,
    bodySerializer: (b: Blob) => b,
    headers: { "Content-Type": options.type ?? file.type },
  };
  return settle(() => request(verb, path, init)) as Promise<Answer<M, P>>;
}
