import type express from "express";
import type { NextFunction, Request, Response } from "express";
import { ApiError } from "./errors.ts";
import { checkJsonContentType, checkQueryParams } from "./params.ts";

export type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void> | void;

/** Mounts an endpoint: its methods' handler chains, and 405 method_not_allowed (with Allow) for any other method. */
export function endpoint(app: express.Express, path: string, methods: Partial<Record<"get" | "post" | "put" | "delete", Handler[]>>): void {
  const r = app.route(path);
  const allow = Object.keys(methods).map((m) => m.toUpperCase());
  if (methods.get) r.get(...methods.get);
  if (methods.post) r.post(...methods.post);
  if (methods.put) r.put(...methods.put);
  if (methods.delete) r.delete(...methods.delete);
  r.all((req, res) => {
    res.set("allow", [...allow, ...(allow.includes("GET") ? ["HEAD"] : [])].join(", "));
    throw new ApiError(405, "method_not_allowed", `${req.method} is not allowed here; use ${allow.join(" or ")}`);
  });
}

/** A handler that refuses query parameters other than `allowed` (400 invalid_request). */
export function onlyQuery(allowed: readonly string[]): Handler {
  return (req, _res, next) => {
    checkQueryParams(req.query, allowed);
    next();
  };
}

/** A POST or PUT handler's guard: JSON bodies only (400 invalid_request). */
export const jsonBody: Handler = (req, _res, next) => {
  checkJsonContentType(req);
  next();
};
