// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {PaymentRelay} from "../../contracts/account/PaymentRelay.sol";

/// @dev A contract that accepts a call only with the account's valid ERC-1271 signature (as a token's ERC-3009 does).
contract SignatureGate {
    error SignatureGateRefused(address account);

    uint256 public calls;

    function enter(address account, bytes32 hash, bytes calldata signature) external returns (uint256) {
        if (PasskeyAccount(payable(account)).isValidSignature(hash, signature) != 0x1626ba7e) {
            revert SignatureGateRefused(account);
        }
        return ++calls;
    }
}

/// @dev PaymentRelay: batches that go on past a failing item, deploy + pay in one call.
contract PaymentRelayTest is PasskeyTestBase {
    bytes32 internal constant REF = keccak256("batch");
    PasskeyAccount internal phoneAcct;
    PasskeyAccount internal laptopAcct;

    function setUp() public override {
        super.setUp();
        phoneAcct = newAccount(phoneKey);
        laptopAcct = newAccount(laptopKey);
        mintTo(address(phoneAcct), FUNDS);
        mintTo(address(laptopAcct), FUNDS);
    }

    function item(uint256 key, PasskeyAccount acct, uint256 amount, uint256 nonce, uint256 fee)
        internal
        view
        returns (PaymentRelay.RelayedPayment memory p)
    {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, amount, REF, nonce, fee);
        p = PaymentRelay.RelayedPayment({
            account: address(acct), intent: i, relayerFee: fee, signature: signIntent(key, address(acct), i)
        });
    }

    function test_Batch_FailingItemDoesNotStopTheOthers() public {
        PaymentRelay.RelayedPayment[] memory ps = new PaymentRelay.RelayedPayment[](4);
        ps[0] = item(phoneKey, phoneAcct, 1e6, 1, 100);
        ps[1] = item(strangerKey, phoneAcct, 5e6, 2, 100); // unknown device
        ps[2] = item(laptopKey, laptopAcct, 2e6, 1, 100);
        ps[3] = ps[0]; // replay of the first
        vm.expectEmit(address(paymentRelay));
        (bytes32 sx, bytes32 sy) = pubKey(strangerKey);
        emit PaymentRelay.RelayedPaymentFailed(
            1,
            address(phoneAcct),
            2,
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountUnknownDevice.selector, phoneAcct.keyIdOf(sx, sy))
        );
        vm.expectEmit(address(paymentRelay));
        emit PaymentRelay.RelayedPaymentFailed(
            3, address(phoneAcct), 1, abi.encodeWithSelector(PasskeyAccount.PasskeyAccountNonceUsed.selector, 1)
        );
        vm.prank(relayer);
        uint256 failures = paymentRelay.relay(new PaymentRelay.Deployment[](0), ps, relayer);
        assertEq(failures, 2);
        assertEq(token.balanceOf(merchant), 1 + 3e6);
        assertEq(token.balanceOf(relayer), 200);
        assertEq(token.balanceOf(address(phoneAcct)), FUNDS - 1e6 - 100);
    }

    function test_DeployAndPay_InOneCall() public {
        uint256 newKey = uint256(keccak256("oriole.test.fresh")) % P256_N;
        (bytes32 qx, bytes32 qy) = pubKey(newKey);
        address predicted = factory.accountAddress(qx, qy, 3);
        mintTo(predicted, FUNDS);
        PaymentRelay.Deployment[] memory ds = new PaymentRelay.Deployment[](1);
        ds[0] = PaymentRelay.Deployment({qx: qx, qy: qy, salt: 3});
        PaymentRelay.RelayedPayment[] memory ps = new PaymentRelay.RelayedPayment[](1);
        ps[0] = item(newKey, PasskeyAccount(payable(predicted)), 4e6, 1, 10);
        uint256 failures = paymentRelay.relay(ds, ps, collector);
        assertEq(failures, 0);
        assertGt(predicted.code.length, 0);
        assertEq(token.balanceOf(merchant), 1 + 4e6);
        assertEq(token.balanceOf(collector), 10);
        // deploying an existing account again is harmless
        ps[0] = item(newKey, PasskeyAccount(payable(predicted)), 1e6, 2, 0);
        assertEq(paymentRelay.relay(ds, ps, collector), 0);
    }

    function test_UndeployedAccount_ReportedNotReverted() public {
        uint256 newKey = uint256(keccak256("oriole.test.fresh")) % P256_N;
        (bytes32 qx, bytes32 qy) = pubKey(newKey);
        address predicted = factory.accountAddress(qx, qy, 0);
        PaymentRelay.RelayedPayment[] memory ps = new PaymentRelay.RelayedPayment[](2);
        ps[0] = item(newKey, PasskeyAccount(payable(predicted)), 1e6, 1, 0);
        ps[1] = item(phoneKey, phoneAcct, 1e6, 1, 0);
        vm.expectEmit(address(paymentRelay));
        emit PaymentRelay.RelayedPaymentFailed(
            0, predicted, 1, abi.encodeWithSelector(PaymentRelay.PaymentRelayNoAccount.selector, predicted)
        );
        assertEq(paymentRelay.relay(new PaymentRelay.Deployment[](0), ps, relayer), 1);
        assertEq(token.balanceOf(merchant), 1 + 1e6);
    }

    function test_FailedDeployment_Reported() public {
        (bytes32 qx, bytes32 qy) = pubKey(newKeyFor("bad"));
        PaymentRelay.Deployment[] memory ds = new PaymentRelay.Deployment[](1);
        ds[0] = PaymentRelay.Deployment({qx: qx, qy: bytes32(uint256(qy) ^ 1), salt: 0});
        vm.expectEmit(address(paymentRelay));
        emit PaymentRelay.RelayedDeploymentFailed(
            0,
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidPublicKey.selector, qx, bytes32(uint256(qy) ^ 1))
        );
        assertEq(paymentRelay.relay(ds, new PaymentRelay.RelayedPayment[](0), relayer), 0);
    }

    function newKeyFor(string memory seed) internal pure returns (uint256) {
        return uint256(keccak256(bytes(seed))) % P256_N;
    }

    function test_Batch_OverDailyLimitItemFails() public {
        vm.prank(address(phoneAcct));
        phoneAcct.setDailyLimit(address(token), 3e6);
        PaymentRelay.RelayedPayment[] memory ps = new PaymentRelay.RelayedPayment[](3);
        ps[0] = item(phoneKey, phoneAcct, 2e6, 1, 0);
        ps[1] = item(phoneKey, phoneAcct, 2e6, 2, 0);
        ps[2] = item(phoneKey, phoneAcct, 1e6, 3, 0);
        assertEq(paymentRelay.relay(new PaymentRelay.Deployment[](0), ps, relayer), 1);
        assertEq(token.balanceOf(merchant), 1 + 3e6);
        assertFalse(phoneAcct.isNonceUsed(2));
    }

    function test_DeployAndCall_DeploysAndCallsAtomically() public {
        SignatureGate gate = new SignatureGate();
        uint256 newKey = newKeyFor("deploy-and-call");
        (bytes32 qx, bytes32 qy) = pubKey(newKey);
        address predicted = factory.accountAddress(qx, qy, 5);
        PaymentRelay.Deployment memory d = PaymentRelay.Deployment({qx: qx, qy: qy, salt: 5});
        bytes32 hash = keccak256("an escrow funding");
        bytes memory good = assertion(newKey, messageDigest(predicted, hash), FLAGS_UP_UV);

        // A refused call (another device signed) reverts with the target's error and deploys nothing.
        bytes memory bad = assertion(strangerKey, messageDigest(predicted, hash), FLAGS_UP_UV);
        vm.expectRevert(abi.encodeWithSelector(SignatureGate.SignatureGateRefused.selector, predicted));
        paymentRelay.deployAndCall(d, address(gate), abi.encodeCall(SignatureGate.enter, (predicted, hash, bad)));
        assertEq(predicted.code.length, 0);
        // Without user verification: refused too.
        bytes memory noUv = assertion(newKey, messageDigest(predicted, hash), FLAG_UP);
        vm.expectRevert(abi.encodeWithSelector(SignatureGate.SignatureGateRefused.selector, predicted));
        paymentRelay.deployAndCall(d, address(gate), abi.encodeCall(SignatureGate.enter, (predicted, hash, noUv)));
        assertEq(predicted.code.length, 0);

        (address acct, bytes memory result) =
            paymentRelay.deployAndCall(d, address(gate), abi.encodeCall(SignatureGate.enter, (predicted, hash, good)));
        assertEq(acct, predicted);
        assertGt(predicted.code.length, 0);
        assertEq(abi.decode(result, (uint256)), 1);
        // Idempotent: the account exists, the call is made again.
        paymentRelay.deployAndCall(d, address(gate), abi.encodeCall(SignatureGate.enter, (predicted, hash, good)));
        assertEq(gate.calls(), 2);
    }

    function test_DeployAndCall_TargetWithoutCode() public {
        (bytes32 qx, bytes32 qy) = pubKey(newKeyFor("no-target"));
        PaymentRelay.Deployment memory d = PaymentRelay.Deployment({qx: qx, qy: qy, salt: 0});
        vm.expectRevert(abi.encodeWithSelector(PaymentRelay.PaymentRelayNoTarget.selector, address(0xbeef)));
        paymentRelay.deployAndCall(d, address(0xbeef), "");
    }
}
