// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title AccountWord
 * @notice Layout of the one storage word StableToken keeps per account.
 *
 * Everything a payment needs to know about an account lives in the slot that
 * holds its balance, so that a transfer, a permit or a payment with a fee
 * costs no extra cold storage read (USDC's FiatTokenV2_2 packs its blacklist
 * bit the same way):
 *
 * | bits     | field                                              |
 * |----------|----------------------------------------------------|
 * | 0..127   | balance (uint128; total supply is capped to fit)   |
 * | 128..191 | EIP-2612 permit nonce (uint64)                     |
 * | 192..207 | merchant fee in basis points (uint16, <= 1,000)    |
 * | 208..254 | reserved, zero                                     |
 * | 255      | frozen flag                                        |
 *
 * Balance arithmetic on the whole word is safe without masking: a debit is
 * only made after checking `value <= balance` (no borrow), and a credit
 * keeps `balance + value <= totalSupply <= MAX_BALANCE` (no carry).
 */
library AccountWord {
    /// @notice Largest balance, and largest total supply.
    uint256 internal constant MAX_BALANCE = type(uint128).max;
    uint256 internal constant NONCE_SHIFT = 128;
    uint256 internal constant NONCE_ONE = 1 << 128;
    uint256 internal constant NONCE_MASK = type(uint64).max;
    uint256 internal constant FEE_SHIFT = 192;
    uint256 internal constant FEE_MASK = type(uint16).max;
    uint256 internal constant FROZEN_BIT = 1 << 255;

    function balance(uint256 word) internal pure returns (uint256) {
        return word & MAX_BALANCE;
    }

    function nonce(uint256 word) internal pure returns (uint256) {
        return (word >> NONCE_SHIFT) & NONCE_MASK;
    }

    function feeBps(uint256 word) internal pure returns (uint256) {
        return (word >> FEE_SHIFT) & FEE_MASK;
    }

    function isFrozen(uint256 word) internal pure returns (bool) {
        return word & FROZEN_BIT != 0;
    }

    function withFeeBps(uint256 word, uint256 bps) internal pure returns (uint256) {
        return (word & ~(FEE_MASK << FEE_SHIFT)) | (bps << FEE_SHIFT);
    }

    function withFrozen(uint256 word, bool frozen) internal pure returns (uint256) {
        return frozen ? word | FROZEN_BIT : word & ~FROZEN_BIT;
    }
}
