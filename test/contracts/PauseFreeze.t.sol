// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {TokenRoles} from "../../contracts/token/TokenRoles.sol";
import {PackedERC20} from "../../contracts/token/PackedERC20.sol";
import {Payments} from "../../contracts/token/Payments.sol";

/// @dev Pause and freeze on every path that moves money or uses a signature.
contract PauseFreezeTest is StableTokenTestBase {
    uint256 internal deadline;
    bytes32 internal constant NONCE = keccak256("n");

    function setUp() public override {
        super.setUp();
        deadline = block.timestamp + 1 hours;
        mintTo(minter, 10e6);
        vm.prank(alice);
        token.approve(relayer, type(uint256).max);
    }

    // One call per money path, from `from` (signing with `key`) to `to`.
    function callTransfer(address from, address to) internal {
        vm.prank(from);
        token.transfer(to, 1e6);
    }

    function callTransferFrom(address from, address to) internal {
        vm.prank(relayer);
        token.transferFrom(from, to, 1e6);
    }

    function callTwa(uint256 key, address from, address to) internal {
        (uint8 v, bytes32 r, bytes32 s) =
            sign(key, authDigest(token, TWA_TYPEHASH, from, to, 1e6, 0, deadline, NONCE));
        token.transferWithAuthorization(from, to, 1e6, 0, deadline, NONCE, v, r, s);
    }

    function callTwaBytes(uint256 key, address from, address to) internal {
        bytes memory sig = signBytes(key, authDigest(token, TWA_TYPEHASH, from, to, 1e6, 0, deadline, NONCE));
        token.transferWithAuthorization(from, to, 1e6, 0, deadline, NONCE, sig);
    }

    function callRwa(uint256 key, address from, address to) internal {
        (uint8 v, bytes32 r, bytes32 s) =
            sign(key, authDigest(token, RWA_TYPEHASH, from, to, 1e6, 0, deadline, NONCE));
        vm.prank(to);
        token.receiveWithAuthorization(from, to, 1e6, 0, deadline, NONCE, v, r, s);
    }

    function callRwaBytes(uint256 key, address from, address to) internal {
        bytes memory sig = signBytes(key, authDigest(token, RWA_TYPEHASH, from, to, 1e6, 0, deadline, NONCE));
        vm.prank(to);
        token.receiveWithAuthorization(from, to, 1e6, 0, deadline, NONCE, sig);
    }

    function callPay(address from, address to) internal {
        vm.prank(from);
        token.pay(to, 1e6, "ref");
    }

    function callPayWithTip(address from, address to) internal {
        vm.prank(from);
        token.payWithTip(to, 1e6, "ref", relayer, 1);
    }

    function callPayFrom(address from, address to) internal {
        vm.prank(relayer);
        token.payFrom(from, to, 1e6, "ref");
    }

    function callPayWithPermit(uint256 key, address from, address to) internal {
        (uint8 v, bytes32 r, bytes32 s) = sign(key, permitDigest(token, from, to, 1e6, 0, deadline));
        vm.prank(to);
        token.payWithPermit(from, to, 1e6, "ref", deadline, v, r, s);
    }

    function callPayWithAuthorization(uint256 key, address from, address to) internal {
        token.payWithAuthorization(signedPay(key, from, to, 1e6, "ref", 1));
    }

    function callSettleAtomic(uint256 key, address from, address to) internal {
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](1);
        list[0] = signedPay(key, from, to, 1e6, "ref", 1);
        token.settlePayments(list, true);
    }

    // ------------------------------------------------------------ pause

    function test_pause_blocksEveryPath() public {
        vm.prank(pauserAcct);
        token.pause();
        bytes4 paused = TokenRoles.StableTokenPaused.selector;

        vm.expectRevert(paused);
        callTransfer(alice, bob);
        vm.expectRevert(paused);
        callTransferFrom(alice, bob);
        vm.expectRevert(paused);
        vm.prank(alice);
        token.approve(bob, 1);
        vm.expectRevert(paused);
        mintTo(bob, 1);
        vm.expectRevert(paused);
        vm.prank(minter);
        token.burn(1);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, bob, 1, 0, deadline));
        vm.expectRevert(paused);
        token.permit(alice, bob, 1, deadline, v, r, s);
        vm.expectRevert(paused);
        token.permit(alice, bob, 1, deadline, abi.encodePacked(r, s, v));
        vm.expectRevert(paused);
        callTwa(aliceKey, alice, bob);
        vm.expectRevert(paused);
        callTwaBytes(aliceKey, alice, bob);
        vm.expectRevert(paused);
        callRwa(aliceKey, alice, bob);
        vm.expectRevert(paused);
        callRwaBytes(aliceKey, alice, bob);
        (v, r, s) = sign(aliceKey, cancelDigest(token, alice, NONCE));
        vm.expectRevert(paused);
        token.cancelAuthorization(alice, NONCE, v, r, s);
        vm.expectRevert(paused);
        callPay(alice, merchant);
        vm.expectRevert(paused);
        callPayWithTip(alice, merchant);
        vm.expectRevert(paused);
        callPayFrom(alice, merchant);
        vm.expectRevert(paused);
        callPayWithPermit(aliceKey, alice, merchant);
        vm.expectRevert(paused);
        callPayWithAuthorization(aliceKey, alice, merchant);
        vm.expectRevert(paused);
        callSettleAtomic(aliceKey, alice, merchant);
        assertEq(token.balanceOf(alice), FUNDS);
    }

    function test_pause_blocksRescueOfOwnToken_andUnpauseRestores() public {
        vm.prank(alice);
        token.transfer(address(token), 1e6);
        vm.prank(pauserAcct);
        token.pause();
        vm.expectRevert(TokenRoles.StableTokenPaused.selector);
        vm.prank(rescuerAcct);
        token.rescueERC20(token, alice, 1e6);
        vm.prank(pauserAcct);
        token.unpause();
        callTransfer(alice, bob);
        callPay(alice, merchant);
        assertEq(token.balanceOf(bob), FUNDS + 1e6);
    }

    // ------------------------------------------------------------ freeze

    function expectFrozen(address who) internal {
        vm.expectRevert(abi.encodeWithSelector(PackedERC20.StableTokenAccountFrozen.selector, who));
    }

    function test_frozenSenderCannotSendOnAnyPath() public {
        vm.prank(compliance);
        token.freeze(alice);
        expectFrozen(alice);
        callTransfer(alice, bob);
        expectFrozen(alice);
        callTransferFrom(alice, bob);
        expectFrozen(alice);
        callTwa(aliceKey, alice, bob);
        expectFrozen(alice);
        callTwaBytes(aliceKey, alice, bob);
        expectFrozen(alice);
        callRwa(aliceKey, alice, bob);
        expectFrozen(alice);
        callRwaBytes(aliceKey, alice, bob);
        expectFrozen(alice);
        callPay(alice, merchant);
        expectFrozen(alice);
        callPayWithTip(alice, merchant);
        expectFrozen(alice);
        callPayFrom(alice, merchant);
        expectFrozen(alice);
        callPayWithPermit(aliceKey, alice, merchant);
        expectFrozen(alice);
        callPayWithAuthorization(aliceKey, alice, merchant);
        vm.expectRevert(
            abi.encodeWithSelector(
                Payments.StableTokenSettlementFailed.selector, 0, Payments.SettlementFailure.PayerFrozen
            )
        );
        callSettleAtomic(aliceKey, alice, merchant);
        expectFrozen(alice);
        vm.prank(alice);
        token.approve(bob, 1);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, bob, 1, 0, deadline));
        expectFrozen(alice);
        token.permit(alice, bob, 1, deadline, v, r, s);
        assertEq(token.balanceOf(alice), FUNDS, "a frozen balance does not change");
    }

    function test_frozenRecipientCannotReceiveOnAnyPath() public {
        vm.prank(compliance);
        token.freeze(bob);
        expectFrozen(bob);
        callTransfer(alice, bob);
        expectFrozen(bob);
        callTransferFrom(alice, bob);
        expectFrozen(bob);
        callTwa(aliceKey, alice, bob);
        expectFrozen(bob);
        callTwaBytes(aliceKey, alice, bob);
        expectFrozen(bob);
        callRwa(aliceKey, alice, bob);
        expectFrozen(bob);
        callRwaBytes(aliceKey, alice, bob);
        expectFrozen(bob);
        callPay(alice, bob);
        expectFrozen(bob);
        callPayWithTip(alice, bob);
        expectFrozen(bob);
        callPayFrom(alice, bob);
        expectFrozen(bob);
        callPayWithPermit(aliceKey, alice, bob);
        expectFrozen(bob);
        callPayWithAuthorization(aliceKey, alice, bob);
        vm.expectRevert(
            abi.encodeWithSelector(
                Payments.StableTokenSettlementFailed.selector, 0, Payments.SettlementFailure.PayeeFrozen
            )
        );
        callSettleAtomic(aliceKey, alice, bob);
        expectFrozen(bob);
        mintTo(bob, 1);
        expectFrozen(bob);
        vm.prank(alice);
        token.approve(bob, 1);
        assertEq(token.balanceOf(bob), FUNDS, "a frozen balance does not change");
    }

    function test_frozenSpenderMinterAndCollector() public {
        vm.prank(compliance);
        token.freeze(relayer);
        expectFrozen(relayer);
        callTransferFrom(alice, bob);
        expectFrozen(relayer);
        callPayFrom(alice, merchant);
        expectFrozen(relayer); // the tip recipient
        callPayWithTip(alice, merchant);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 1, 0, deadline));
        expectFrozen(relayer);
        token.permit(alice, relayer, 1, deadline, v, r, s);

        vm.prank(compliance);
        token.freeze(minter);
        expectFrozen(minter);
        vm.prank(minter);
        token.burn(1);

        vm.prank(admin);
        token.setMerchantFee(merchant, 100);
        vm.prank(compliance);
        token.freeze(collector);
        expectFrozen(collector);
        callPay(alice, merchant);
        expectFrozen(collector);
        callPayWithTip(alice, merchant);
    }

    function test_unfreezeRestores() public {
        vm.startPrank(compliance);
        token.freeze(alice);
        token.unfreeze(alice);
        vm.stopPrank();
        callTransfer(alice, bob);
        callPayWithAuthorization(aliceKey, alice, merchant);
        assertEq(token.balanceOf(alice), FUNDS - 2e6);
    }
}
