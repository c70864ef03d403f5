import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { WALLET_MESSAGES_EN, WALLET_MESSAGES_ZH, type WalletMessageId } from "../../client/web/wallet/messages.ts";

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();

describe("web wallet messages", function () {
  const ids = Object.keys(WALLET_MESSAGES_EN) as WalletMessageId[];

  it("has a Chinese message for every id, with the same placeholders", function () {
    expect(Object.keys(WALLET_MESSAGES_ZH).sort()).to.deep.equal([...ids].sort());
    for (const id of ids) {
      expect(placeholders(WALLET_MESSAGES_ZH[id]), id).to.deep.equal(placeholders(WALLET_MESSAGES_EN[id]));
      expect(WALLET_MESSAGES_ZH[id], id).to.not.equal("");
    }
  });

  it("every data-i18n key of index.html exists, and its English text matches the catalog", async function () {
    const html = await readFile(new URL("../../client/web/wallet/index.html", import.meta.url), "utf8");
    const used = [...html.matchAll(/data-i18n="([^"]+)"[^>]*>([^<]*)</g)];
    expect(used.length).to.be.greaterThan(20);
    for (const [, id, text] of used) {
      expect(Object.hasOwn(WALLET_MESSAGES_EN, id!), id).to.equal(true);
      // The HTML carries the English text so the page reads right before the script runs.
      expect(text!.replace(/&amp;/g, "&"), id).to.equal(WALLET_MESSAGES_EN[id as WalletMessageId]);
    }
  });
});
