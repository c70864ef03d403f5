import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { CURRENCIES, currencyInfo } from "../../../client/sdk/currencies.ts";

/**
 * Deploys one StableToken per Oriole currency.
 *
 * Parameters (all optional):
 * - `admin`: holder of DEFAULT_ADMIN_ROLE on every token (default: account 0).
 * - `minter`: granted MINTER_ROLE on every token (default: account 0). On a
 *   public chain this is the issuer's minting key, not the deployer.
 */
export default buildModule("Oriole", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const minter = m.getParameter("minter", m.getAccount(0));

  const tokens = Object.fromEntries(
    CURRENCIES.map((code) => {
      const info = currencyInfo(code);
      const token = m.contract("StableToken", [info.name, info.symbol, code, admin], { id: `StableToken_${code}` });
      const minterRole = m.staticCall(token, "MINTER_ROLE", [], 0, { id: `MINTER_ROLE_${code}` });
      m.call(token, "grantRole", [minterRole, minter], { id: `grantMinter_${code}` });
      return [`StableToken_${code}`, token] as const;
    }),
  );

  return tokens;
});
