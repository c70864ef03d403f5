import type { NextFunction, Request, Response } from "express";
import { constantTimeEqual, type Merchant, type MerchantStore } from "../merchants/merchantStore.ts";
import { ApiError } from "./errors.ts";

/**
 * Bearer authentication: the admin token (creates merchants) and merchant
 * API keys (`ok_live_…`, stored hashed). Missing or wrong credentials: 401
 * `unauthorized`; valid ones on something they may not touch: 403 `forbidden`.
 */

/** The token of `Authorization: Bearer <token>`, or undefined when absent or of another scheme. */
export function bearerToken(req: Request): string | undefined {
  const h = req.get("authorization");
  if (h === undefined) return undefined;
  const m = /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(h);
  return m?.[1];
}

function unauthorized(res: Response, message: string): ApiError {
  res.set("www-authenticate", 'Bearer realm="oriole"');
  return new ApiError(401, "unauthorized", message);
}

/** The merchant of the request's key, looked up once per request (the rate limiter asks too). */
export async function merchantOf(req: Request, res: Response, merchants: MerchantStore): Promise<Merchant | undefined> {
  const cached = res.locals.merchant as Merchant | null | undefined;
  if (cached !== undefined) return cached ?? undefined;
  const token = bearerToken(req);
  const m = token === undefined ? undefined : await merchants.byApiKey(token);
  res.locals.merchant = m ?? null;
  return m;
}

/** Sets `res.locals.merchant` from the request's API key; 401 unauthorized without a valid one. */
export function requireMerchant(merchants: MerchantStore) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (bearerToken(req) === undefined) throw unauthorized(res, "this endpoint needs a merchant API key: Authorization: Bearer ok_live_…");
    const m = await merchantOf(req, res, merchants);
    if (!m) throw unauthorized(res, "the API key is not valid (keys are shown once, when the merchant is created)");
    next();
  };
}

/** Only the admin token passes; a merchant key gets 403 forbidden, anything else 401. */
export function requireAdmin(adminToken: string, merchants: MerchantStore) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req);
    if (token === undefined) throw unauthorized(res, "this endpoint needs the node's admin token: Authorization: Bearer <token>");
    if (constantTimeEqual(token, adminToken)) {
      res.locals.admin = true;
      next();
      return;
    }
    if (await merchantOf(req, res, merchants)) throw new ApiError(403, "forbidden", "a merchant API key cannot do this: it needs the node's admin token");
    throw unauthorized(res, "the admin token is not valid");
  };
}

/** The admin, or the merchant `id` itself; another merchant's key is 403 forbidden. */
export function requireAdminOrMerchant(adminToken: string, merchants: MerchantStore) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req);
    if (token === undefined) throw unauthorized(res, "this endpoint needs a merchant API key or the admin token");
    if (constantTimeEqual(token, adminToken)) {
      res.locals.admin = true;
      next();
      return;
    }
    if (!(await merchantOf(req, res, merchants))) throw unauthorized(res, "the API key is not valid");
    next();
  };
}
