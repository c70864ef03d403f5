// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyAccount} from "./PasskeyAccount.sol";
import {PasskeyAccountFactory} from "./PasskeyAccountFactory.sol";

/**
 * @title PaymentRelay
 * @notice A stateless batcher for Oriole's relayer: deploys counterfactual accounts and
 * executes many passkey payment intents in one transaction. A failing payment is
 * reported by an event and the others go on, so one bad intent cannot block a batch.
 * It also deploys an account and makes one call in the same transaction
 * ({deployAndCall}), for a signed operation that another contract checks through the
 * account's ERC-1271 `isValidSignature` (an escrow funding, an offline reserve).
 * @dev Holds no funds and no roles: every payment is authorized by its account's device
 * signature; `feeRecipient` is the relayer's choice, as when it calls an account directly.
 * No contract trusts PaymentRelay as `msg.sender`, so the call {deployAndCall} makes for
 * anyone is worth no more than the same call from any address.
 */
contract PaymentRelay {
    /// @notice An account to deploy (if it is not yet) before the payments.
    struct Deployment {
        bytes32 qx;
        bytes32 qy;
        uint256 salt;
    }

    /// @notice One signed intent to execute on `account`.
    struct RelayedPayment {
        address account;
        PasskeyAccount.PaymentIntent intent;
        uint256 relayerFee;
        bytes signature;
    }

    /// @notice The factory that deploys accounts.
    // solhint-disable-next-line immutable-vars-naming
    PasskeyAccountFactory public immutable factory;

    /// @notice Payment `index` (of `account`, intent `nonce`) failed with `reason` (the revert data).
    event RelayedPaymentFailed(uint256 indexed index, address indexed account, uint256 nonce, bytes reason);
    /// @notice Deployment `index` failed with `reason`; payments of that account then fail too.
    event RelayedDeploymentFailed(uint256 indexed index, bytes reason);

    /// @notice The payment's account has no code (not deployed and not in the batch's deployments).
    error PaymentRelayNoAccount(address account);

    /// @notice The call of {deployAndCall} targets an address without code.
    error PaymentRelayNoTarget(address target);

    /// @param factory_ the factory that deploys accounts
    constructor(PasskeyAccountFactory factory_) {
        factory = factory_;
    }

    /**
     * @notice Deploys `deployments` (idempotent), then executes each payment, paying its
     * relayer fee to `feeRecipient`. A failed payment emits {RelayedPaymentFailed}.
     * @param deployments accounts to deploy first
     * @param payments the signed intents
     * @param feeRecipient who receives the relayer fees
     * @return failures how many payments failed
     */
    function relay(Deployment[] calldata deployments, RelayedPayment[] calldata payments, address feeRecipient)
        external
        returns (uint256 failures)
    {
        for (uint256 i = 0; i < deployments.length; ++i) {
            Deployment calldata d = deployments[i];
            try factory.createAccount(d.qx, d.qy, d.salt) {}
            catch (bytes memory reason) {
                emit RelayedDeploymentFailed(i, reason);
            }
        }
        for (uint256 i = 0; i < payments.length; ++i) {
            RelayedPayment calldata p = payments[i];
            // a call to an address without code reverts in this frame, past try/catch
            if (p.account.code.length == 0) {
                ++failures;
                emit RelayedPaymentFailed(
                    i, p.account, p.intent.nonce, abi.encodeWithSelector(PaymentRelayNoAccount.selector, p.account)
                );
                continue;
            }
            try PasskeyAccount(payable(p.account)).executePayment(p.intent, p.relayerFee, feeRecipient, p.signature) {}
            catch (bytes memory reason) {
                ++failures;
                emit RelayedPaymentFailed(i, p.account, p.intent.nonce, reason);
            }
        }
    }

    /**
     * @notice Deploys `deployment`'s account (idempotent: an existing account is kept), then
     * calls `target` with `data`. Atomic: if the call reverts, this reverts with the call's
     * revert data and the account is not deployed either, so a refused operation deploys nothing.
     * @dev The account's signature is checked by `target` (ERC-1271 on the fresh account); the
     * call is made with this contract as `msg.sender` and no value.
     * @param deployment the account to deploy first
     * @param target the contract to call (it must have code)
     * @param data the calldata
     * @return account the deployed account
     * @return result the call's return data
     */
    function deployAndCall(Deployment calldata deployment, address target, bytes calldata data)
        external
        returns (address account, bytes memory result)
    {
        if (target.code.length == 0) revert PaymentRelayNoTarget(target);
        account = factory.createAccount(deployment.qx, deployment.qy, deployment.salt);
        bool ok;
        // solhint-disable-next-line avoid-low-level-calls
        (ok, result) = target.call(data);
        if (!ok) {
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
