// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title IOriolePaymentToken
 * @notice The part of Oriole's StableToken a passkey account pays through.
 */
interface IOriolePaymentToken {
    /**
     * @notice Pays `value` from the caller to `to` for the merchant reference `ref`
     * (emits `Payment(ref, payer, payee, amount, fee)` next to the `Transfer`s).
     * @return Always true; failures revert.
     */
    function pay(address to, uint256 value, bytes32 ref) external returns (bool);
}
