// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";

/// @dev Random sequences of device additions, removals, payments (by registered and unregistered devices)
/// and replays against one passkey account. Inherits the signing helpers only (its setUp is never run).
contract PasskeyAccountHandler is PasskeyTestBase {
    PasskeyAccount public account;
    uint256[3] internal pool;
    mapping(uint256 key => bool) public registered;
    uint256 public registeredCount;
    uint256 public paid; // to the merchant
    uint256 public nextNonce = 1;

    error NoDevice();

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

    function pay(uint256 keySeed, uint256 amount) external {
        uint256 key = pool[keySeed % 3];
        amount = bound(amount, 0, token.balanceOf(address(account)));
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, amount, bytes32(nextNonce), nextNonce, 0);
        bytes memory sig = signIntent(key, address(account), i);
        if (!registered[key]) {
            (bytes32 qx, bytes32 qy) = pubKey(key);
            vm.expectRevert(
                abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUnknownDevice.selector, account.keyIdOf(qx, qy))
            );
            account.executePayment(i, 0, sig);
            return;
        }
        account.executePayment(i, 0, sig);
        paid += amount;
        ++nextNonce;
        lastIntent = i;
        lastSig = sig;
        hasLast = true;
    }

    function replay() external {
        if (!hasLast) return;
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, lastIntent.nonce));
        account.executePayment(lastIntent, 0, lastSig);
    }

    function addDevice(uint256 signerSeed, uint256 newSeed) external {
        uint256 newKey = pool[newSeed % 3];
        if (registered[newKey]) return;
        uint256 signer = _registeredSigner(signerSeed);
        (bytes32 qx, bytes32 qy) = pubKey(newKey);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(signer, addDeviceDigest(address(account), qx, qy, nextNonce, deadline), FLAGS_UP_UV);
        account.addDeviceWithSig(qx, qy, nextNonce++, deadline, sig);
        registered[newKey] = true;
        ++registeredCount;
    }

    function removeDevice(uint256 signerSeed, uint256 targetSeed) external {
        uint256 target = pool[targetSeed % 3];
        if (!registered[target]) return;
        uint256 signer = _registeredSigner(signerSeed);
        (bytes32 qx, bytes32 qy) = pubKey(target);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig =
            assertion(signer, removeDeviceDigest(address(account), qx, qy, nextNonce, deadline), FLAGS_UP_UV);
        if (registeredCount == 1) {
            vm.expectRevert(
                abi.encodeWithSelector(PasskeyAccount.PasskeyAccountLastDevice.selector, account.keyIdOf(qx, qy))
            );
            account.removeDeviceWithSig(qx, qy, nextNonce, deadline, sig);
            return;
        }
        account.removeDeviceWithSig(qx, qy, nextNonce++, deadline, sig);
        registered[target] = false;
        --registeredCount;
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
        bytes4[] memory selectors = new bytes4[](4);
        selectors[0] = PasskeyAccountHandler.pay.selector;
        selectors[1] = PasskeyAccountHandler.replay.selector;
        selectors[2] = PasskeyAccountHandler.addDevice.selector;
        selectors[3] = PasskeyAccountHandler.removeDevice.selector;
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
        assertEq(token.balanceOf(address(account)), FUNDS - handler.paid());
        assertEq(token.balanceOf(merchant), 1 + handler.paid());
    }

    function invariant_usedNoncesMarked() public view {
        for (uint256 n = 1; n < handler.nextNonce(); ++n) {
            assertTrue(account.isNonceUsed(n));
        }
        assertFalse(account.isNonceUsed(handler.nextNonce()));
    }
}
