// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {OfflineVault} from "../../contracts/offline/OfflineVault.sol";

/// @dev A vault next to the StableToken and passkey fixtures, and code-signing helpers.
abstract contract OfflineVaultTestBase is PasskeyTestBase {
    OfflineVault internal vault;

    uint256 internal constant MAX_VALIDITY = 1 days;
    uint256 internal constant WINDOW = 3 days;
    uint256 internal constant DELAY = 7 days;
    uint256 internal constant RESERVE = 100e6;

    bytes32 internal constant OFFLINE_TYPEHASH = keccak256(
        "OfflinePayment(address payer,address merchant,address token,uint256 amount,uint256 nonce,uint256 validAfter,uint256 validBefore)"
    );
    bytes32 internal constant WITHDRAWAL_TYPEHASH =
        keccak256("WithdrawalRequest(address payer,address token,uint256 amount,uint256 nonce,uint256 deadline)");

    address internal shop = makeAddr("shop");
    address internal otherShop = makeAddr("otherShop");

    function setUp() public virtual override {
        super.setUp();
        vault = new OfflineVault(MAX_VALIDITY, WINDOW, DELAY);
        vm.label(address(vault), "vault");
    }

    /// @dev Computed without calling the vault, so that it can run between expectRevert and the call.
    function vaultDigest(bytes32 structHash) internal view returns (bytes32) {
        return vaultDigestFor(address(vault), block.chainid, structHash);
    }

    function vaultDigestFor(address v, uint256 chainId, bytes32 structHash) internal pure returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Oriole OfflineVault"),
                keccak256("1"),
                chainId,
                v
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function codeStruct(OfflineVault.OfflineCode memory c) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(OFFLINE_TYPEHASH, c.payer, c.merchant, c.token, c.amount, c.nonce, c.validAfter, c.validBefore)
        );
    }

    /// @dev An unsigned code valid from now - 1 for 1 hour.
    function draft(address payer, address to, uint256 amount, uint256 nonce)
        internal
        view
        returns (OfflineVault.OfflineCode memory c)
    {
        c = OfflineVault.OfflineCode({
            payer: payer,
            merchant: to,
            token: address(token),
            amount: amount,
            nonce: nonce,
            validAfter: block.timestamp - 1,
            validBefore: block.timestamp + 1 hours,
            signature: ""
        });
    }

    /// @dev `draft` signed with the EOA key `key`.
    function signed(uint256 key, address payer, address to, uint256 amount, uint256 nonce)
        internal
        view
        returns (OfflineVault.OfflineCode memory c)
    {
        c = draft(payer, to, amount, nonce);
        c.signature = signBytes(key, vaultDigest(codeStruct(c)));
    }

    /// @dev A passkey account's code, signed by `deviceKey` over OrioleMessage(codeHash) (ERC-1271).
    function signedByPasskey(uint256 deviceKey, address acct, address to, uint256 amount, uint256 nonce)
        internal
        view
        returns (OfflineVault.OfflineCode memory c)
    {
        c = draft(acct, to, amount, nonce);
        c.signature = assertion(deviceKey, messageDigest(acct, vaultDigest(codeStruct(c))), FLAGS_UP_UV);
    }

    function one(OfflineVault.OfflineCode memory c) internal pure returns (OfflineVault.OfflineCode[] memory codes) {
        codes = new OfflineVault.OfflineCode[](1);
        codes[0] = c;
    }

    function reserveAs(address payer, uint256 amount) internal {
        vm.startPrank(payer);
        token.approve(address(vault), amount);
        vault.reserve(address(token), amount);
        vm.stopPrank();
    }

    function balanceOfReserve(address payer) internal view returns (uint256 balance) {
        (balance,,,) = vault.reserveOf(payer, address(token));
    }

    function debtOf(address payer) internal view returns (uint256 debt) {
        (, debt,,) = vault.reserveOf(payer, address(token));
    }
}
