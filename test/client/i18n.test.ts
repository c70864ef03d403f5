import { expect } from "chai";
import { langFromEnv, placeholders, t } from "../../client/sdk/i18n.ts";
import { MESSAGES_EN, MESSAGES_ZH, type MessageId } from "../../client/sdk/i18nMessages.ts";

describe("i18n catalog", function () {
  const ids = Object.keys(MESSAGES_EN) as MessageId[];

  it("has a Chinese message for every id, with the same placeholders", function () {
    expect(Object.keys(MESSAGES_ZH).sort()).to.deep.equal([...ids].sort());
    for (const id of ids) {
      expect(placeholders("zh", id), id).to.deep.equal(placeholders("en", id));
      expect(MESSAGES_ZH[id], id).to.not.equal("");
    }
  });

  it("fills placeholders and leaves unknown ones visible", function () {
    expect(t("en", "error.weak_pin", { min: 6 })).to.equal("the PIN must have at least 6 characters");
    expect(t("zh", "error.weak_pin", { min: 6 })).to.equal("PIN 至少需要 6 个字符");
    expect(t("en", "error.weak_pin")).to.include("{min}");
  });

  it("chooses the language from the locale", function () {
    expect(langFromEnv({})).to.equal("en");
    expect(langFromEnv({ LANG: "C.UTF-8" })).to.equal("en");
    expect(langFromEnv({ LANG: "zh_CN.UTF-8" })).to.equal("zh");
    expect(langFromEnv({ LANG: "zh_CN.UTF-8", LC_ALL: "en_GB.UTF-8" })).to.equal("en");
    expect(langFromEnv({ LC_ALL: "", LANG: "zh_SG" })).to.equal("zh");
  });
});
