// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";

/// @dev Random sequences of payments (by registered and unregistered devices, with fees), replays, device
/// changes, daily-limit changes and the passing of time against one passkey account. Inherits the signing
/// helpers only (its setUp is never run).
contract PasskeyAccountHandler is PasskeyTestBase {
    PasskeyAccount public account;
    uint256[3] internal pool;
    mapping(uint256 key => bool) public registered;
    uint256 public registeredCount;
    uint256 public paid; // to the merchant
    uint256 public fees; // to the collector
    uint256 public nextNonce = 1;

    error NoDevice();
    error UnexpectedRevert(bytes reason);

    PasskeyAccount.PaymentIntent internal lastIntent;
    bytes internal lastSig;
    bool internal hasLast;

    constructor(PasskeyAccount account_, StableToken token_, uint256[3] memory pool_) {
        account = account_;
        token = token_;
        pool = pool_;
        registered[pool_[0]] = true;
        registeredCount = 1;
    }

    function poolKey(uint256 k) external view returns (uint256) {
        return pool[k];
    }

    function _registeredSigner(uint256 seed) internal view returns (uint256) {
        for (uint256 k = 0; k < 3; ++k) {
            uint256 key = pool[(seed + k) % 3];
            if (registered[key]) return key;
        }
        revert NoDevice(); // unreachable: never fewer than one
    }

    function pay(uint256 keySeed, uint256 amount, uint256 fee) external {
        uint256 key = pool[keySeed % 3];
        uint256 balance = token.balanceOf(address(account));
        amount = bound(amount, 0, balance);
        fee = bound(fee, 0, balance - amount);
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, amount, bytes32(nextNonce), nextNonce, fee);
        bytes memory sig = signIntent(key, address(account), i);
        (uint256 limit, uint256 spent,,) = account.dailyLimit(address(token));
        (bool ok, bytes memory ret) =
            address(account).call(abi.encodeCall(PasskeyAccount.executePayment, (i, fee, collector, sig)));
        if (!registered[key]) {
            assertFalse(ok);
            assertEq(bytes4(ret), PasskeyAccount.PasskeyAccountUnknownDevice.selector);
            return;
        }
        if (limit != type(uint256).max && amount + fee > limit - spent) {
            assertFalse(ok);
            assertEq(bytes4(ret), PasskeyAccount.PasskeyAccountDailyLimitExceeded.selector);
            return;
        }
        if (!ok) revert UnexpectedRevert(ret);
        paid += amount;
        fees += fee;
        ++nextNonce;
        lastIntent = i;
        lastSig = sig;
        hasLast = true;
    }

    function replay() external {
        if (!hasLast) return;
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, lastIntent.nonce));
        account.executePayment(lastIntent, 0, collector, lastSig);
    }

    function addDevice(uint256 signerSeed, uint256 newSeed) external {
        uint256 newKey = pool[newSeed % 3];
        if (registered[newKey]) return;
        (bytes32 qx, bytes32 qy) = pubKey(newKey);
        callWithSig(account, _registeredSigner(signerSeed), abi.encodeCall(PasskeyAccount.addDevice, (qx, qy)), nextNonce++);
        registered[newKey] = true;
        ++registeredCount;
    }

    function removeDevice(uint256 signerSeed, uint256 targetSeed) external {
        uint256 target = pool[targetSeed % 3];
        if (!registered[target]) return;
        (bytes32 qx, bytes32 qy) = pubKey(target);
        bytes memory data = abi.encodeCall(PasskeyAccount.removeDevice, (qx, qy));
        if (registeredCount == 1) {
            callWithSigReverts(
                account,
                _registeredSigner(signerSeed),
                data,
                nextNonce,
                abi.encodeWithSelector(PasskeyAccount.PasskeyAccountLastDevice.selector, account.keyIdOf(qx, qy))
            );
            return;
        }
        callWithSig(account, _registeredSigner(signerSeed), data, nextNonce++);
        registered[target] = false;
        --registeredCount;
    }

    function setLimit(uint256 limit) external {
        limit = bound(limit, 0, FUNDS);
        vm.prank(address(account));
        account.setDailyLimit(address(token), limit);
    }

    function wait(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 2 days));
    }
}

contract PasskeyAccountInvariantTest is StdInvariant, PasskeyTestBase {
    PasskeyAccount internal account;
    PasskeyAccountHandler internal handler;

    function setUp() public override {
        super.setUp();
        account = newAccount(phoneKey);
        mintTo(address(account), FUNDS);
        handler = new PasskeyAccountHandler(account, token, [phoneKey, laptopKey, strangerKey]);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = PasskeyAccountHandler.pay.selector;
        selectors[1] = PasskeyAccountHandler.replay.selector;
        selectors[2] = PasskeyAccountHandler.addDevice.selector;
        selectors[3] = PasskeyAccountHandler.removeDevice.selector;
        selectors[4] = PasskeyAccountHandler.setLimit.selector;
        selectors[5] = PasskeyAccountHandler.wait.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function invariant_devicesMatchModelAndNeverZero() public view {
        assertGe(account.deviceCount(), 1);
        assertEq(account.deviceCount(), handler.registeredCount());
        for (uint256 k = 0; k < 3; ++k) {
            uint256 key = handler.poolKey(k);
            (bytes32 qx, bytes32 qy) = pubKey(key);
            assertEq(account.isDevice(qx, qy), handler.registered(key));
        }
    }

    function invariant_fundsConserved() public view {
        assertEq(token.balanceOf(address(account)), FUNDS - handler.paid() - handler.fees());
        assertEq(token.balanceOf(merchant), 1 + handler.paid());
        assertEq(token.balanceOf(collector), handler.fees());
    }

    function invariant_spentTodayWithinLimit() public view {
        (uint256 limit, uint256 spent,,) = account.dailyLimit(address(token));
        assertLe(spent, limit);
    }

    function invariant_usedNoncesMarked() public view {
        for (uint256 n = 1; n < handler.nextNonce(); ++n) {
            assertTrue(account.isNonceUsed(n));
        }
        assertFalse(account.isNonceUsed(handler.nextNonce()));
    }
}
