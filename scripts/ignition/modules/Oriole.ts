import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { CURRENCIES, currencyInfo } from "../../../client/sdk/currencies.ts";

/** Default minting allowance of the first minter: 10^24 whole units of the currency. */
export const DEFAULT_MINTER_ALLOWANCE = 10n ** 30n;

/**
 * Deploys one StableToken implementation and, per Oriole currency, an
 * ERC-1967 proxy (StableTokenProxy) initialized with that currency's name,
 * symbol and code and the role accounts below. The module returns
 * `StableToken_<code>`: the StableToken ABI at the proxy's address.
 *
 * Parameters (all optional; every account defaults to account 0, the deployer):
 * - `admin`: sets roles and fees, upgrades (two-step transfer);
 * - `masterMinter`: configures minters;
 * - `pauser`, `complianceOfficer` (freezes accounts), `rescuer`;
 * - `feeCollector`: receives merchant fees;
 * - `minter` and `minterAllowance`: a first minter configured at
 *   initialization (on a public chain: the issuer's minting key, not the
 *   deployer); `minterAllowance` defaults to DEFAULT_MINTER_ALLOWANCE.
 */
export default buildModule("Oriole", (m) => {
  const deployer = m.getAccount(0);
  const roles = {
    admin: m.getParameter("admin", deployer),
    masterMinter: m.getParameter("masterMinter", deployer),
    pauser: m.getParameter("pauser", deployer),
    complianceOfficer: m.getParameter("complianceOfficer", deployer),
    rescuer: m.getParameter("rescuer", deployer),
    feeCollector: m.getParameter("feeCollector", deployer),
    minter: m.getParameter("minter", deployer),
    minterAllowance: m.getParameter("minterAllowance", DEFAULT_MINTER_ALLOWANCE),
  };

  const implementation = m.contract("StableToken", [], { id: "StableTokenImplementation" });

  const tokens = Object.fromEntries(
    CURRENCIES.map((code) => {
      const info = currencyInfo(code);
      const init = m.encodeFunctionCall(implementation, "initialize", [info.name, info.symbol, code, roles], {
        id: `initialize_${code}`,
      });
      const proxy = m.contract("StableTokenProxy", [implementation, init], { id: `StableTokenProxy_${code}` });
      const token = m.contractAt("StableToken", proxy, { id: `StableToken_${code}` });
      return [`StableToken_${code}`, token] as const;
    }),
  );

  return tokens;
});
