import type express from "express";
import { requireMerchant } from "../api/auth.ts";
import { endpoint, onlyQuery } from "../api/endpoint.ts";
import type { Merchant, MerchantStore } from "../merchants/merchantStore.ts";
import type { RefundStore } from "../refunds/refundStore.ts";
import type { NodeStore } from "../store/store.ts";
import { dailyReport, parseReportCurrency, parseReportDate, parseReportFormat, reportCsv } from "./daily.ts";

export interface ReportRouteDeps {
  store: NodeStore;
  refunds: RefundStore;
  merchants: MerchantStore;
}

/** GET /v1/merchants/me/reports/daily?date=YYYY-MM-DD[&currency=][&format=json|csv]. */
export function mountReportRoutes(app: express.Express, deps: ReportRouteDeps): void {
  endpoint(app, "/v1/merchants/me/reports/daily", {
    get: [
      onlyQuery(["date", "currency", "format"]),
      requireMerchant(deps.merchants),
      async (req, res) => {
        const dayStart = parseReportDate(req.query.date);
        const currency = parseReportCurrency(req.query.currency);
        const format = parseReportFormat(req.query.format);
        const report = await dailyReport(deps, res.locals.merchant as Merchant, dayStart, currency);
        if (format === "json") {
          res.json(report);
          return;
        }
        res.set("content-disposition", `attachment; filename="oriole-${report.merchantId}-${report.date}${currency === undefined ? "" : `-${currency}`}.csv"`);
        res.type("text/csv; charset=utf-8").send(reportCsv(report));
      },
    ],
  });
}
