// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyAccount} from "./PasskeyAccount.sol";
import {PasskeyAccountFactory} from "./PasskeyAccountFactory.sol";

/**
 * @title PaymentRelay
 * @notice A stateless batcher for Oriole's relayer: deploys counterfactual accounts and
 * executes many passkey payment intents in one transaction. A failing payment is
 * reported by an event and the others go on, so one bad intent cannot block a batch.
 * @dev Holds no funds and no roles: every payment is authorized by its account's device
 * signature; `feeRecipient` is the relayer's choice, as when it calls an account directly.
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
}
