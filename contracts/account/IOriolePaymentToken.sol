// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IOriolePaymentToken
 * @notice The part of Oriole's StableToken a passkey account pays through.
 */
interface IOriolePaymentToken {
    /**
     * @notice Pays `value` from the caller to `to` for the merchant reference `ref`
     * (emits `Payment(ref, payer, payee, amount, fee)` after the payment's `Transfer`s),
     * then transfers `tip` to `tipRecipient` (a `Transfer`; nothing when `tip` is 0).
     * @return Always true; failures revert.
     */
    function payWithTip(address to, uint256 value, bytes32 ref, address tipRecipient, uint256 tip)
        external
        returns (bool);
}
