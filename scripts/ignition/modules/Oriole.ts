import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { NamedArtifactContractAtFuture } from "@nomicfoundation/ignition-core";
import { CURRENCIES, currencyInfo, type Currency } from "../../../client/sdk/currencies.ts";

/** Default delay before a raised daily limit of a passkey account applies: 1 day. */
export const DEFAULT_LIMIT_RAISE_DELAY = 86_400n;
/** Default delay between the start and the completion of a guardian recovery: 2 days. */
export const DEFAULT_RECOVERY_DELAY = 172_800n;

/** Default OfflineVault delays (seconds): a code is valid at most 1 day, settles up to 3 days after, withdrawals wait 7 days. */
export const DEFAULT_OFFLINE_MAX_VALIDITY = 86_400n;
export const DEFAULT_OFFLINE_SETTLEMENT_WINDOW = 259_200n;
export const DEFAULT_OFFLINE_WITHDRAWAL_DELAY = 604_800n;

/** Default minting allowance of the first minter: 10^24 whole units of the currency. */
export const DEFAULT_MINTER_ALLOWANCE = 10n ** 30n;

/**
 * Deploys one StableToken implementation and, per Oriole currency, an
 * ERC-1967 proxy (StableTokenProxy) initialized with that currency's name,
 * symbol and code and the role accounts below; then the passkey accounts:
 * the PasskeyAccount implementation (clone target), its factory and the
 * PaymentRelay batcher. The module returns `StableToken_<code>` (the
 * StableToken ABI at the proxy's address), `PasskeyAccountImplementation`,
 * `PasskeyAccountFactory`, `PaymentRelay`, `OrioleEscrow` and `OfflineVault`.
 *
 * Parameters (all optional; every account defaults to account 0, the deployer):
 * - `admin`: sets roles and fees, upgrades (two-step transfer);
 * - `masterMinter`: configures minters;
 * - `pauser`, `complianceOfficer` (freezes accounts), `rescuer`;
 * - `feeCollector`: receives merchant fees;
 * - `minter` and `minterAllowance`: a first minter configured at
 *   initialization (on a public chain: the issuer's minting key, not the
 *   deployer); `minterAllowance` defaults to DEFAULT_MINTER_ALLOWANCE;
 * - `limitRaiseDelay`, `recoveryDelay` (seconds): the passkey accounts' delays,
 *   DEFAULT_LIMIT_RAISE_DELAY and DEFAULT_RECOVERY_DELAY;
 * - `arbiter`: the first dispute-desk account of OrioleEscrow (its admin is `admin`,
 *   who grants more arbiters; every currency is allowed at deployment);
 * - `offlineMaxValidity`, `offlineSettlementWindow`, `offlineWithdrawalDelay` (seconds):
 *   the OfflineVault's delays (`OfflineVault` in the result), DEFAULT_OFFLINE_*.
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

  type TokenFuture = NamedArtifactContractAtFuture<"StableToken">;
  // one key per currency, typed so that the spread below keeps them
  const tokens = Object.fromEntries(
    CURRENCIES.map((code): [string, TokenFuture] => {
      const info = currencyInfo(code);
      const init = m.encodeFunctionCall(implementation, "initialize", [info.name, info.symbol, code, roles], {
        id: `initialize_${code}`,
      });
      const proxy = m.contract("StableTokenProxy", [implementation, init], { id: `StableTokenProxy_${code}` });
      const token = m.contractAt("StableToken", proxy, { id: `StableToken_${code}` });
      return [`StableToken_${code}`, token];
    }),
  ) as Record<`StableToken_${Currency}`, TokenFuture>;

  const accountImplementation = m.contract(
    "PasskeyAccount",
    [m.getParameter("limitRaiseDelay", DEFAULT_LIMIT_RAISE_DELAY), m.getParameter("recoveryDelay", DEFAULT_RECOVERY_DELAY)],
    { id: "PasskeyAccountImplementation" },
  );
  const accountFactory = m.contract("PasskeyAccountFactory", [accountImplementation]);
  const paymentRelay = m.contract("PaymentRelay", [accountFactory]);

  const escrow = m.contract("OrioleEscrow", [roles.admin, [m.getParameter("arbiter", deployer)], Object.values(tokens)]);

  const offlineVault = m.contract("OfflineVault", [
    m.getParameter("offlineMaxValidity", DEFAULT_OFFLINE_MAX_VALIDITY),
    m.getParameter("offlineSettlementWindow", DEFAULT_OFFLINE_SETTLEMENT_WINDOW),
    m.getParameter("offlineWithdrawalDelay", DEFAULT_OFFLINE_WITHDRAWAL_DELAY),
  ]);

  return {
    ...tokens,
    OfflineVault: offlineVault,
    PasskeyAccountImplementation: accountImplementation,
    PasskeyAccountFactory: accountFactory,
    PaymentRelay: paymentRelay,
    OrioleEscrow: escrow,
  };
});
