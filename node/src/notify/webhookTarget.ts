import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { OrioleError } from "../../../client/sdk/errors.ts";

/**
 * SSRF guard of webhook URLs: a merchant chooses the URL, the node POSTs to
 * it, so without a guard a merchant could make the node call its own
 * network (admin ports, cloud metadata at 169.254.169.254). Only http(s)
 * to public addresses is allowed, unless the node runs with
 * --allow-private-webhooks (tests and local development post to localhost).
 *
 * The check runs when the URL is set (a clear 400) and again on every
 * delivery, inside the connection's DNS lookup (`guardedLookup`): the
 * address checked is the address connected to, so a name that later
 * resolves to a private address (DNS rebinding) is refused too.
 */

/** Error codes (stable). */
export const WEBHOOK_TARGET_FORBIDDEN = "webhook_target_forbidden";
export const WEBHOOK_TARGET_UNRESOLVABLE = "webhook_target_unresolvable";

/** Special-purpose ranges (IANA registries): never a merchant's public endpoint. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local (incl. fd00:ec2::254, a cloud metadata address)
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv6");
}

/** True for an address a webhook must not reach without --allow-private-webhooks. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true; // not an address: refuse rather than guess
  if (family === 6) {
    const embedded = embeddedIpv4(address);
    if (embedded !== undefined) return PRIVATE.check(embedded, "ipv4");
  }
  return PRIVATE.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const m = /^(?:::ffff:|::|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(lower);
  if (!m) return undefined;
  if (m[1] !== undefined) return m[1];
  const hi = parseInt(m[2] ?? "0", 16);
  const lo = parseInt(m[3] ?? "0", 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** The URL's host as an address or a name ("[::1]" → "::1"). */
function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

/** `target`: what the message names (a redacted URL, or a host). */
function forbidden(target: string, address: string): OrioleError {
  return new OrioleError(
    WEBHOOK_TARGET_FORBIDDEN,
    `webhook target ${target} reaches ${address}, a loopback, private, link-local or otherwise non-public address: use a public http(s) endpoint (or run the node with --allow-private-webhooks)`,
    { address },
  );
}

/** Resolves every address of `host` (an address resolves to itself). */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  const found = await new Promise<LookupAddress[]>((resolve, reject) => {
    dnsLookup(host, { all: true, order: "verbatim" }, (e, addresses) => {
      if (e) reject(e);
      else resolve(addresses);
    });
  });
  return found.map((a) => a.address);
}

/**
 * Checks a webhook URL before it is saved: http(s) only, and (unless
 * `allowPrivate`) every address its host resolves to is public. Throws
 * OrioleError webhook_target_forbidden or webhook_target_unresolvable.
 */
export async function checkWebhookTarget(url: string, opts: { allowPrivate: boolean }): Promise<void> {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new OrioleError(WEBHOOK_TARGET_FORBIDDEN, "a webhook URL must be http or https");
  if (opts.allowPrivate) return;
  let addresses: string[];
  try {
    addresses = await addressesOf(hostOf(u));
  } catch (e) {
    throw new OrioleError(WEBHOOK_TARGET_UNRESOLVABLE, `the webhook URL's host ${u.hostname} does not resolve (${(e as NodeJS.ErrnoException).code ?? "DNS error"})`, { host: u.hostname });
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad !== undefined) throw forbidden(redactedUrl(url), bad);
}

/**
 * A DNS lookup for the delivery's connection that fails with
 * webhook_target_forbidden when the name resolves to a non-public address.
 * Connections to an address literal skip lookups: `checkLiteralTarget` covers those.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true, order: "verbatim" }, (e, addresses: LookupAddress[]) => {
    if (e) {
      callback(e, "", 4);
      return;
    }
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad !== undefined) {
      callback(forbidden(hostname, bad.address), "", 4);
      return;
    }
    if (options.all) callback(null, addresses);
    else {
      const first = addresses[0];
      if (first === undefined) callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "", 4);
      else callback(null, first.address, first.family);
    }
  });
};

/** A delivery to an address literal (no DNS involved): refused when the address is not public. */
export function checkLiteralTarget(url: string): void {
  const host = hostOf(new URL(url));
  if (isIP(host) !== 0 && isPrivateAddress(host)) throw forbidden(redactedUrl(url), host);
}

/** The URL without credentials or query (it may carry a token): for logs and messages. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

/**
 * POSTs one webhook and resolves with the response's status (the body is
 * discarded; redirects are not followed). Unless `allowPrivate`, a
 * non-public target fails with webhook_target_forbidden, checked on the
 * address actually connected to.
 */
export function postWebhook(url: string, headers: Readonly<Record<string, string>>, body: string, opts: { signal: AbortSignal; allowPrivate: boolean }): Promise<number> {
  const u = new URL(url);
  if (!opts.allowPrivate) checkLiteralTarget(url);
  const request = u.protocol === "https:" ? https.request : http.request;
  return new Promise<number>((resolve, reject) => {
    const req = request(
      u,
      { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body).toString() }, signal: opts.signal, ...(opts.allowPrivate ? {} : { lookup: guardedLookup }) },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
