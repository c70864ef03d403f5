// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";

/// @dev Passkey account: relayed payments, devices, owner calls. Runs with the P-256 precompile
/// (default network, osaka) and without it (`--network prague`).
contract PasskeyAccountTest is PasskeyTestBase {
    PasskeyAccount internal account;
    bytes32 internal phoneQx;
    bytes32 internal phoneQy;
    bytes32 internal laptopQx;
    bytes32 internal laptopQy;
    bytes32 internal constant REF = keccak256("invoice-42");

    function setUp() public override {
        super.setUp();
        account = newAccount(phoneKey);
        vm.label(address(account), "passkeyAccount");
        (phoneQx, phoneQy) = pubKey(phoneKey);
        (laptopQx, laptopQy) = pubKey(laptopKey);
        mintTo(address(account), FUNDS);
    }

    function test_Payment_PaysMerchantAndFeeRecipient() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 5e6, REF, 1, 10_000);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.prank(relayer);
        account.executePayment(i, 10_000, collector, sig);
        assertEq(token.balanceOf(merchant), 5e6 + 1);
        assertEq(token.balanceOf(collector), 10_000);
        assertEq(token.balanceOf(address(account)), FUNDS - 5e6 - 10_000);
        assertTrue(account.isNonceUsed(1));
    }

    function test_ExecuteWithSig_AddsDevice() public {
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, laptopQy)), 900);
        assertTrue(account.isDevice(laptopQx, laptopQy));
        assertEq(account.deviceCount(), 2);
    }
}
