// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {PasskeyAccountFactory} from "../../contracts/account/PasskeyAccountFactory.sol";

/// @dev Counterfactual accounts: predicted address, idempotent creation, funds received before deployment.
contract PasskeyAccountFactoryTest is PasskeyTestBase {
    bytes32 internal qx;
    bytes32 internal qy;

    function setUp() public override {
        super.setUp();
        (qx, qy) = pubKey(phoneKey);
    }

    function test_Implementation() public view {
        assertEq(factory.implementation(), address(accountImpl));
    }

    function test_PredictedAddressIsDeployed() public {
        address predicted = factory.accountAddress(qx, qy, 7);
        assertEq(predicted.code.length, 0);
        assertEq(
            predicted,
            Clones.predictDeterministicAddress(address(accountImpl), keccak256(abi.encode(qx, qy, uint256(7))), address(factory))
        );
        vm.expectEmit(address(factory));
        emit PasskeyAccountFactory.AccountCreated(predicted, qx, qy, 7);
        address deployed = factory.createAccount(qx, qy, 7);
        assertEq(deployed, predicted);
        assertTrue(PasskeyAccount(payable(deployed)).isDevice(qx, qy));
        assertEq(PasskeyAccount(payable(deployed)).deviceCount(), 1);
    }

    function testFuzz_PredictedAddressIsDeployed(uint256 salt) public {
        assertEq(factory.createAccount(qx, qy, salt), factory.accountAddress(qx, qy, salt));
    }

    function test_CreateAccount_Idempotent() public {
        address first = factory.createAccount(qx, qy, 0);
        vm.recordLogs();
        address again = factory.createAccount(qx, qy, 0);
        assertEq(again, first);
        assertEq(vm.getRecordedLogs().length, 0, "no second AccountCreated");
    }

    function test_DistinctKeysAndSalts_DistinctAddresses() public view {
        (bytes32 lx, bytes32 ly) = pubKey(laptopKey);
        address a = factory.accountAddress(qx, qy, 0);
        assertTrue(a != factory.accountAddress(qx, qy, 1));
        assertTrue(a != factory.accountAddress(lx, ly, 0));
    }

    function test_RevertWhen_InvalidKey() public {
        bytes32 bad = bytes32(uint256(qy) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidPublicKey.selector, qx, bad));
        factory.createAccount(qx, bad, 0);
    }

    function test_FundsBeforeDeployment_SpendableAfter() public {
        address predicted = factory.accountAddress(qx, qy, 0);
        mintTo(predicted, FUNDS); // paid to the wallet before it exists
        factory.createAccount(qx, qy, 0);
        PasskeyAccount acct = PasskeyAccount(payable(predicted));
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 10e6, keccak256("r"), 1, 0);
        acct.executePayment(i, 0, relayer, signIntent(phoneKey, predicted, i));
        assertEq(token.balanceOf(merchant), 1 + 10e6);
        assertEq(token.balanceOf(predicted), FUNDS - 10e6);
    }

    function test_RevertWhen_CloneInitializedTwice() public {
        PasskeyAccount acct = PasskeyAccount(payable(factory.createAccount(qx, qy, 0)));
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        vm.expectRevert(PasskeyAccount.PasskeyAccountAlreadyInitialized.selector);
        acct.initialize(sx, sy);
    }
}
