// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Vm} from "forge-std/Vm.sol";
import {OfflineVaultTestBase} from "./OfflineVaultTestBase.sol";
import {OfflineVault} from "../../contracts/offline/OfflineVault.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";

/// @dev Drives the vault with random reserves, codes (fresh, replayed, bounced), withdrawals and time.
contract OfflineVaultHandler is OfflineVaultTestBase {
    address[] public payers;
    uint256[] internal keys;
    address[2] internal merchants;
    OfflineVault.OfflineCode[] internal issued;
    /// @dev What each issued code paid in total (settled plus claims paid), by code hash.
    mapping(bytes32 => uint256) public paidOf;
    bytes32[] public hashes;
    uint256 internal nextNonce;

    constructor(OfflineVault vault_, StableToken token_, address minter_) {
        vault = vault_;
        token = token_;
        minter = minter_;
        merchants = [makeAddr("m0"), makeAddr("m1")];
        for (uint256 i = 0; i < 3; ++i) {
            (address p, uint256 k) = makeAddrAndKey(string.concat("payer", vm.toString(i)));
            payers.push(p);
            keys.push(k);
        }
    }

    function payerCount() external view returns (uint256) {
        return payers.length;
    }

    function hashCount() external view returns (uint256) {
        return hashes.length;
    }

    function reserve(uint256 seed, uint256 amount) external {
        address p = payers[seed % payers.length];
        amount = bound(amount, 1, 50e6);
        vm.prank(minter);
        token.mint(p, amount);
        reserveAs(p, amount);
    }

    /// @dev Issues and settles a batch of 1-4 fresh codes (some may double-spend, reuse a nonce or be forged).
    function settleFresh(uint256 seed, uint256 amount, uint8 count, bool forge) external {
        count = uint8(bound(count, 1, 4));
        OfflineVault.OfflineCode[] memory codes = new OfflineVault.OfflineCode[](count);
        address merchant = merchants[seed & 1];
        for (uint256 i = 0; i < count; ++i) {
            uint256 who = (seed + i) % payers.length;
            uint256 nonce = (seed >> 8) % 3 == 0 && nextNonce > 0 ? nextNonce - 1 : nextNonce++;
            OfflineVault.OfflineCode memory c =
                signed(forge ? keys[(who + 1) % keys.length] : keys[who], payers[who], merchant, bound(amount, 1, 30e6), nonce);
            codes[i] = c;
            issued.push(c);
        }
        _settle(merchant, codes);
    }

    /// @dev Re-submits up to 3 previously issued codes (replays and claims); codes to another merchant fail.
    function resubmit(uint256 seed) external {
        if (issued.length == 0) return;
        OfflineVault.OfflineCode[] memory codes = new OfflineVault.OfflineCode[](3);
        for (uint256 i = 0; i < 3; ++i) codes[i] = issued[(seed + i * 7) % issued.length];
        _settle(codes[0].merchant, codes);
    }

    function requestWithdrawal(uint256 seed, uint256 amount) external {
        vm.prank(payers[seed % payers.length]);
        vault.requestWithdrawal(address(token), bound(amount, 0, 100e6));
    }

    function withdraw(uint256 seed) external {
        address p = payers[seed % payers.length];
        (, uint256 debt,, uint256 unlockAt) = vault.reserveOf(p, address(token));
        if (unlockAt == 0 || block.timestamp < unlockAt || debt != 0) return;
        vault.withdraw(p, address(token));
    }

    function warp(uint256 by) external {
        vm.warp(block.timestamp + bound(by, 1, 2 days));
    }

    function _settle(address merchant, OfflineVault.OfflineCode[] memory codes) internal {
        uint256 m0 = token.balanceOf(merchants[0]) + token.balanceOf(merchants[1]);
        vm.recordLogs();
        vm.prank(merchant);
        vault.settle(codes);
        // attribute every payout to its code through the events
        uint256 total = 0;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            bytes32 t = logs[i].topics[0];
            if (t == OfflineVault.OfflinePaymentSettled.selector) {
                (uint256 nonce, uint256 amount) = abi.decode(logs[i].data, (uint256, uint256));
                address payer = address(uint160(uint256(logs[i].topics[1])));
                address merchant = address(uint160(uint256(logs[i].topics[2])));
                _record(_find(payer, merchant, nonce, amount), amount);
                total += amount;
            } else if (t == OfflineVault.OfflinePaymentBounced.selector) {
                (,, uint256 paid,) = abi.decode(logs[i].data, (address, uint256, uint256, uint256));
                _record(logs[i].topics[1], paid);
                total += paid;
            } else if (t == OfflineVault.ClaimPaid.selector) {
                (uint256 paid,) = abi.decode(logs[i].data, (uint256, uint256));
                _record(logs[i].topics[1], paid);
                total += paid;
            }
        }
        assertEq(token.balanceOf(merchants[0]) + token.balanceOf(merchants[1]) - m0, total, "payouts match the events");
    }

    function _find(address payer, address merchant, uint256 nonce, uint256 amount) internal view returns (bytes32) {
        for (uint256 i = issued.length; i > 0; --i) {
            OfflineVault.OfflineCode memory c = issued[i - 1];
            if (c.payer == payer && c.merchant == merchant && c.nonce == nonce && c.amount == amount) {
                return codeHashOf(c);
            }
        }
        revert("settled code not issued");
    }

    function codeHashOf(OfflineVault.OfflineCode memory c) internal view returns (bytes32) {
        return vaultDigest(codeStruct(c));
    }

    function _record(bytes32 h, uint256 amount) internal {
        if (paidOf[h] == 0) hashes.push(h);
        paidOf[h] += amount;
    }

    function issuedAmountOf(bytes32 h) external view returns (uint256) {
        for (uint256 i = 0; i < issued.length; ++i) {
            if (codeHashOf(issued[i]) == h) return issued[i].amount;
        }
        return 0;
    }
}

contract OfflineVaultInvariantTest is StdInvariant, OfflineVaultTestBase {
    OfflineVaultHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new OfflineVaultHandler(vault, token, minter);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = OfflineVaultHandler.reserve.selector;
        selectors[1] = OfflineVaultHandler.settleFresh.selector;
        selectors[2] = OfflineVaultHandler.resubmit.selector;
        selectors[3] = OfflineVaultHandler.requestWithdrawal.selector;
        selectors[4] = OfflineVaultHandler.withdraw.selector;
        selectors[5] = OfflineVaultHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev The vault always holds at least every payer's reserve.
    function invariant_vaultBalanceCoversReserves() public view {
        uint256 sum = 0;
        for (uint256 i = 0; i < handler.payerCount(); ++i) {
            (uint256 balance,,,) = vault.reserveOf(handler.payers(i), address(token));
            sum += balance;
        }
        assertGe(token.balanceOf(address(vault)), sum);
    }

    /// @dev No code is ever paid more than its amount (it settles at most once; claims only pay the shortfall).
    function invariant_codePaidAtMostOnce() public view {
        for (uint256 i = 0; i < handler.hashCount(); ++i) {
            bytes32 h = handler.hashes(i);
            assertLe(handler.paidOf(h), handler.issuedAmountOf(h));
            assertEq(handler.paidOf(h) + vault.claimOf(h) <= handler.issuedAmountOf(h), true);
        }
    }

    /// @dev A payer's debt is exactly the sum of its outstanding claims: checked through defaulted <=> debt.
    function invariant_defaultedIffDebt() public view {
        for (uint256 i = 0; i < handler.payerCount(); ++i) {
            address p = handler.payers(i);
            (, uint256 debt,,) = vault.reserveOf(p, address(token));
            assertEq(vault.isDefaulted(p, address(token)), debt != 0);
        }
    }
}
