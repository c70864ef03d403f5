import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { BASE_UNITS_RE } from "./amount.ts";
import { CURRENCIES, type Currency } from "./currencies.ts";
import { OrioleError } from "./errors.ts";

/**
 * A small typed client for the settlement node's REST API. Responses are
 * validated; amounts become bigint; the node's `{"error":{code,message}}`
 * becomes an OrioleError with the node's code; a node that cannot be reached
 * (refused, DNS, timeout) becomes `node_unreachable`.
 */

const address = z
  .string()
  .refine((s) => isAddress(s), "not an address")
  .transform((s) => getAddress(s));
const txHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "not a 32-byte hash");
const baseUnits = z
  .string()
  .regex(BASE_UNITS_RE, "not a base-unit amount")
  .transform((s) => BigInt(s));
const blockNumber = z.number().int().nonnegative();

const perCurrency = <T extends z.ZodType>(schema: T) => z.object(Object.fromEntries(CURRENCIES.map((c) => [c, schema])) as Record<Currency, T>);

const networkSchema = z.object({
  chainId: z.number().int().positive(),
  blockNumber,
  indexedBlock: blockNumber,
  contracts: z.object({
    tokens: perCurrency(address),
    /** Passkey accounts, as in the deployment file (absent from a node older than issue 4). */
    accounts: z.object({ implementation: address, factory: address, relay: address }).optional(),
    /** OrioleEscrow and OfflineVault (absent from a node older than issue 6). */
    escrow: address.optional(),
    offlineVault: address.optional(),
  }),
  /** The node's relayer and its fee per currency; null when the node runs none. */
  relayer: z
    .object({ address, fees: perCurrency(baseUnits) })
    .nullish()
    .transform((v) => v ?? null),
});
export type NetworkInfo = z.infer<typeof networkSchema>;

const balancesSchema = z.object({
  address,
  indexedBlock: blockNumber,
  balances: perCurrency(baseUnits),
});
export type Balances = z.infer<typeof balancesSchema>;

/** Unix seconds; ISO 8601 strings are accepted too and converted. */
const timestamp = z.union([
  z.number().int().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Math.floor(Date.parse(s) / 1000)),
]);

const paymentSchema = z.object({
  txHash,
  logIndex: z.number().int().nonnegative(),
  blockNumber,
  timestamp,
  from: address,
  to: address,
  currency: z.enum(CURRENCIES),
  amount: baseUnits,
  /** The payment's bytes32 reference; null (or absent, from an older node) for a plain transfer. */
  reference: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "not a 32-byte reference")
    .transform((s) => s.toLowerCase())
    .nullish()
    .transform((s) => s ?? null),
  /** The merchant fee of a payment; 0 when none (or absent). */
  fee: baseUnits.optional().transform((v) => v ?? 0n),
  /** transfer, payment or fee; absent from an older node means transfer. Unknown kinds from a newer node are kept. */
  kind: z
    .string()
    .min(1)
    .optional()
    .transform((k) => k ?? "transfer"),
});
export type Payment = z.infer<typeof paymentSchema>;

const paymentsSchema = z.object({
  items: z.array(paymentSchema),
  nextCursor: z.string().min(1).nullable(),
});
export type PaymentsPage = z.infer<typeof paymentsSchema>;

const errorBodySchema = z.object({ error: z.object({ code: z.string().min(1), message: z.string() }) });

export interface ApiClientOptions {
  /** Base URL of the node, e.g. http://127.0.0.1:8787 */
  url: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
}

export interface ApiClient {
  readonly url: string;
  getNetwork(): Promise<NetworkInfo>;
  getBalances(params: { address: string }): Promise<Balances>;
  getPayments(params: { address: string; limit?: number; cursor?: string }): Promise<PaymentsPage>;
}

/** How {@link requestJson} calls the node. */
export interface RequestOptions {
  method?: "GET" | "POST";
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>` (admin token or merchant API key). */
  bearer?: string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** More request headers (e.g. Idempotency-Key). */
  headers?: Readonly<Record<string, string>>;
  /**
   * Tries again, up to this many more times (default 0), after a transient
   * failure: 503 `chain_unavailable` or `shutting_down`, 429 `rate_limited`,
   * or no connection (not a timeout: the node may still be working on it).
   * Only for requests the node answers idempotently (the same body gives the
   * same result, never a second effect), e.g. a signed intent.
   */
  retries?: number;
}

const TRANSIENT = new Set(["chain_unavailable", "shutting_down", "rate_limited"]);
const RETRY_BASE_MS = 300;

function isTransient(e: unknown): boolean {
  if (!(e instanceof OrioleError)) return false;
  if (e.code === "node_unreachable") return !(e.cause instanceof Error && e.cause.name === "TimeoutError");
  return TRANSIENT.has(e.code);
}

/** `http://host:port/` → `http://host:port`. */
export function nodeBaseUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * One request to the node's JSON API, the response validated with `schema`.
 * Any 2xx is success. Errors: the node's `{"error":{code,message}}` becomes an
 * OrioleError with the node's code (details carry the HTTP status);
 * `node_unreachable`, `node_error`, `invalid_response` otherwise. See
 * {@link RequestOptions.retries} for trying again.
 */
export async function requestJson<T>(baseUrl: string, pathAndQuery: string, schema: z.ZodType<T>, opts: RequestOptions = {}): Promise<T> {
  const retries = opts.retries ?? 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestOnce(baseUrl, pathAndQuery, schema, opts);
    } catch (e) {
      if (attempt >= retries || !isTransient(e)) throw e;
      await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** attempt));
    }
  }
}

async function requestOnce<T>(baseUrl: string, pathAndQuery: string, schema: z.ZodType<T>, opts: RequestOptions): Promise<T> {
  const base = nodeBaseUrl(baseUrl);
  const headers: Record<string, string> = { ...opts.headers, accept: "application/json" };
  const init: RequestInit = { method: opts.method ?? "GET", headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
  }
  if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
  let res: Response;
  try {
    res = await fetch(`${base}${pathAndQuery}`, init);
  } catch (e) {
    throw new OrioleError("node_unreachable", `cannot reach the Oriole node at ${base}`, { url: base }, { cause: e });
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (e) {
    if (!res.ok) throw new OrioleError("node_error", `the node answered HTTP ${res.status}`, { url: base, status: res.status }, { cause: e });
    throw new OrioleError("invalid_response", `the node at ${base} sent a body that is not JSON`, { url: base, path: pathAndQuery }, { cause: e });
  }
  if (!res.ok) {
    const err = errorBodySchema.safeParse(body);
    if (err.success) throw new OrioleError(err.data.error.code, err.data.error.message, { url: base, status: res.status });
    throw new OrioleError("node_error", `the node answered HTTP ${res.status}`, { url: base, status: res.status });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OrioleError("invalid_response", `the node at ${base} sent an unexpected response to ${pathAndQuery}: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`, {
      url: base,
      path: pathAndQuery,
    });
  }
  return parsed.data;
}

/** An address for a URL path, checksummed; OrioleError `invalid_address` otherwise. */
export function checkedAddress(a: string): string {
  const valid: boolean = isAddress(a);
  if (!valid) throw new OrioleError("invalid_address", `"${a}" is not a valid address`, { address: a });
  return getAddress(a);
}

export function createApiClient(opts: ApiClientOptions): ApiClient {
  const base = nodeBaseUrl(opts.url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const get = <T>(pathAndQuery: string, schema: z.ZodType<T>): Promise<T> => requestJson(base, pathAndQuery, schema, { timeoutMs });

  return {
    url: base,
    getNetwork: () => get("/v1/network", networkSchema),
    getBalances: async ({ address: a }) => get(`/v1/accounts/${checkedAddress(a)}/balances`, balancesSchema),
    getPayments: async ({ address: a, limit, cursor }) => {
      const q = new URLSearchParams();
      if (limit !== undefined) q.set("limit", String(limit));
      if (cursor !== undefined) q.set("cursor", cursor);
      const qs = q.size > 0 ? `?${q.toString()}` : "";
      return get(`/v1/accounts/${checkedAddress(a)}/payments${qs}`, paymentsSchema);
    },
  };
}
