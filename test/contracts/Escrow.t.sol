// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {EscrowTestBase} from "./EscrowTestBase.sol";
import {OrioleEscrow} from "../../contracts/escrow/OrioleEscrow.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {PackedERC20} from "../../contracts/token/PackedERC20.sol";
import {TokenRoles} from "../../contracts/token/TokenRoles.sol";

/// @dev Every path and state of OrioleEscrow, called directly; the wrong caller on every path.
contract EscrowTest is EscrowTestBase {
    // ------------------------------------------------------------ funding

    function test_fund_movesTokensRecordsAndEmits() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        bytes32 expected = escrow.escrowId(alice, shop, address(token), ORDER);
        assertEq(expected, keccak256(abi.encode(alice, shop, address(token), ORDER)));
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowFunded(expected, alice, shop, address(token), AMOUNT, ORDER, RELEASE_TIMEOUT, DISPUTE_WINDOW);
        vm.prank(alice);
        bytes32 id = escrow.fund(t);
        assertEq(id, expected);
        assertEq(token.balanceOf(address(escrow)), AMOUNT);
        assertEq(token.balanceOf(alice), FUNDS - AMOUNT);
        OrioleEscrow.Escrow memory e = escrow.getEscrow(id);
        assertEq(e.buyer, alice);
        assertEq(e.merchant, shop);
        assertEq(e.token, address(token));
        assertEq(e.amount, AMOUNT);
        assertEq(uint8(e.status), uint8(OrioleEscrow.Status.Funded));
        assertEq(e.shippedAt, 0);
        assertEq(e.releaseTimeout, RELEASE_TIMEOUT);
        assertEq(e.disputeWindow, DISPUTE_WINDOW);
    }

    function test_fund_anyAllowedCurrency_isolatedPerToken() public {
        vm.startPrank(alice);
        bytes32 usd = escrow.fund(terms(token, shop, AMOUNT, ORDER));
        bytes32 eu = escrow.fund(terms(eur, shop, 3e6, ORDER)); // same order id, other currency: another escrow
        vm.stopPrank();
        assertTrue(usd != eu);
        assertEq(token.balanceOf(address(escrow)), AMOUNT);
        assertEq(eur.balanceOf(address(escrow)), 3e6);
        vm.prank(alice);
        escrow.release(eu);
        assertEq(eur.balanceOf(shop), 3e6);
        assertEq(token.balanceOf(address(escrow)), AMOUNT);
    }

    function test_fund_refusesBadTerms() public {
        StableToken other = deployToken("Oriole Yen", "oJPY", "JPY");
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowTokenNotAllowed.selector, address(other)));
        escrow.fund(terms(other, shop, AMOUNT, ORDER));
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidMerchant.selector, address(0)));
        escrow.fund(terms(token, address(0), AMOUNT, ORDER));
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidMerchant.selector, alice));
        escrow.fund(terms(token, alice, AMOUNT, ORDER));
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidAmount.selector, 0));
        escrow.fund(terms(token, shop, 0, ORDER));
        uint256 tooMuch = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidAmount.selector, tooMuch));
        escrow.fund(terms(token, shop, tooMuch, ORDER));
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        t.disputeWindow = t.releaseTimeout + 1;
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidTimeouts.selector, t.releaseTimeout, t.disputeWindow));
        escrow.fund(t);
        t.releaseTimeout = uint32(366 days);
        t.disputeWindow = 1;
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidTimeouts.selector, 366 days, 1));
        escrow.fund(t);
        vm.stopPrank();
        assertEq(token.balanceOf(address(escrow)), 0);
    }

    function test_fund_sameOrderTwiceRefused() public {
        bytes32 id = funded();
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowExists.selector, id));
        vm.prank(alice);
        escrow.fund(terms(token, shop, AMOUNT, ORDER));
        // still refused once the first one is closed: an order id is used once per buyer, merchant and token
        vm.prank(alice);
        escrow.release(id);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowExists.selector, id));
        vm.prank(alice);
        escrow.fund(terms(token, shop, AMOUNT, ORDER));
    }

    function test_fund_withoutAllowanceOrBalance() public {
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(escrow), 0, AMOUNT));
        escrow.fund(terms(token, shop, AMOUNT, ORDER));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS, FUNDS + 1));
        escrow.fund(terms(token, shop, FUNDS + 1, ORDER));
    }

    function test_fund_zeroOrderIdAndZeroTimeouts() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, bytes32(0));
        t.releaseTimeout = 0;
        t.disputeWindow = 0;
        vm.prank(alice);
        bytes32 id = escrow.fund(t);
        vm.prank(shop);
        escrow.markShipped(id);
        // no dispute window after shipping, and anyone may release at once
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowDisputeWindowClosed.selector, id, block.timestamp, block.timestamp));
        escrow.openDispute(id);
        vm.prank(stranger);
        escrow.releaseAfterTimeout(id);
        assertEq(token.balanceOf(shop), 1 + AMOUNT);
    }

    // ------------------------------------------------------------ shipping

    function test_markShipped() public {
        bytes32 id = funded();
        vm.warp(block.timestamp + 5);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowShipped(id, block.timestamp);
        vm.prank(shop);
        escrow.markShipped(id);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Shipped));
        assertEq(escrow.getEscrow(id).shippedAt, block.timestamp);
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Shipped));
        escrow.markShipped(id);
    }

    function test_markShipped_wrongCaller() public {
        bytes32 id = funded();
        address[3] memory wrong = [alice, stranger, arbiter];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, wrong[i]));
            escrow.markShipped(id);
        }
    }

    function test_unknownEscrow_refusedOnEveryPath() public {
        bytes32 id = keccak256("nothing");
        bytes memory err = abi.encodeWithSelector(OrioleEscrow.EscrowNotFound.selector, id);
        vm.startPrank(shop);
        vm.expectRevert(err);
        escrow.markShipped(id);
        vm.expectRevert(err);
        escrow.release(id);
        vm.expectRevert(err);
        escrow.releaseAfterTimeout(id);
        vm.expectRevert(err);
        escrow.refund(id, 1);
        vm.expectRevert(err);
        escrow.openDispute(id);
        vm.expectRevert(err);
        escrow.offerSettlement(id, 0, 0);
        vm.expectRevert(err);
        escrow.acceptSettlement(id, 0, 0);
        vm.stopPrank();
        vm.prank(arbiter);
        vm.expectRevert(err);
        escrow.resolveDispute(id, 0);
    }

    // ------------------------------------------------------------ release

    function test_release_byBuyer_fromEveryOpenState() public {
        bytes32 a = funded();
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowReleased(a, alice, AMOUNT);
        vm.prank(alice);
        escrow.release(a);
        assertEq(uint8(statusOf(a)), uint8(OrioleEscrow.Status.Released));
        assertEq(held(a), 0);
        assertEq(token.balanceOf(shop), 1 + AMOUNT);

        vm.prank(alice);
        bytes32 b = escrow.fund(terms(token, shop, AMOUNT, "b"));
        vm.prank(shop);
        escrow.markShipped(b);
        vm.prank(alice);
        escrow.release(b);
        assertEq(uint8(statusOf(b)), uint8(OrioleEscrow.Status.Released));

        // conceding a dispute: the buyer may release while it is open
        vm.prank(alice);
        bytes32 c = escrow.fund(terms(token, shop, AMOUNT, "c"));
        vm.prank(shop);
        escrow.openDispute(c);
        vm.prank(alice);
        escrow.release(c);
        assertEq(uint8(statusOf(c)), uint8(OrioleEscrow.Status.Released));
        assertEq(token.balanceOf(shop), 1 + 3 * AMOUNT);
        assertEq(token.balanceOf(address(escrow)), 0);
    }

    function test_release_wrongCaller() public {
        bytes32 id = shipped();
        address[4] memory wrong = [shop, stranger, arbiter, admin];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, wrong[i]));
            escrow.release(id);
        }
    }

    function test_release_timeout_anyoneAfterIt() public {
        bytes32 id = funded();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Funded));
        escrow.releaseAfterTimeout(id);
        vm.prank(shop);
        escrow.markShipped(id);
        uint256 at = block.timestamp + RELEASE_TIMEOUT;
        vm.warp(at - 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowNotYetReleasable.selector, id, at, at - 1));
        escrow.releaseAfterTimeout(id);
        vm.warp(at);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowReleased(id, stranger, AMOUNT);
        vm.prank(stranger);
        escrow.releaseAfterTimeout(id);
        assertEq(token.balanceOf(shop), 1 + AMOUNT);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Released));
        escrow.releaseAfterTimeout(id);
    }

    function test_release_timeout_blockedByDispute() public {
        bytes32 id = disputed();
        vm.warp(block.timestamp + RELEASE_TIMEOUT + 1);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Disputed));
        escrow.releaseAfterTimeout(id);
    }

    // ------------------------------------------------------------ refunds

    function test_refund_full() public {
        bytes32 id = shipped();
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowRefunded(id, AMOUNT, 0);
        vm.prank(shop);
        escrow.refund(id, AMOUNT);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Refunded));
        assertEq(token.balanceOf(alice), FUNDS);
        assertEq(token.balanceOf(address(escrow)), 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Refunded));
        escrow.release(id);
    }

    function test_refund_partial_restStays_thenReleased() public {
        bytes32 id = funded();
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowRefunded(id, 30e6, AMOUNT - 30e6);
        vm.prank(shop);
        escrow.refund(id, 30e6);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Funded));
        assertEq(held(id), AMOUNT - 30e6);
        vm.prank(shop);
        escrow.markShipped(id);
        vm.prank(shop);
        escrow.refund(id, 20e6);
        vm.prank(alice);
        escrow.release(id);
        assertEq(token.balanceOf(alice), FUNDS - AMOUNT + 50e6);
        assertEq(token.balanceOf(shop), 1 + 50e6);
        assertEq(token.balanceOf(address(escrow)), 0);
    }

    function test_refund_duringDispute_partialThenFull() public {
        bytes32 id = disputed();
        vm.prank(shop);
        escrow.refund(id, 1);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Disputed));
        vm.prank(shop);
        escrow.refund(id, AMOUNT - 1);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Refunded));
        assertEq(token.balanceOf(alice), FUNDS);
    }

    function test_refund_badAmounts() public {
        bytes32 id = funded();
        vm.startPrank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidRefund.selector, id, 0, AMOUNT));
        escrow.refund(id, 0);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidRefund.selector, id, AMOUNT + 1, AMOUNT));
        escrow.refund(id, AMOUNT + 1);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidRefund.selector, id, type(uint256).max, AMOUNT));
        escrow.refund(id, type(uint256).max);
        vm.stopPrank();
    }

    function test_refund_wrongCaller() public {
        bytes32 id = shipped();
        address[4] memory wrong = [alice, stranger, arbiter, admin];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, wrong[i]));
            escrow.refund(id, 1);
        }
    }

    function test_refund_afterReleaseRefused() public {
        bytes32 id = funded();
        vm.prank(alice);
        escrow.release(id);
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Released));
        escrow.refund(id, 1);
    }

    // ------------------------------------------------------------ disputes

    function test_dispute_buyerBeforeShipping_merchantWithinWindow() public {
        bytes32 a = funded();
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.DisputeOpened(a, alice);
        vm.prank(alice);
        escrow.openDispute(a);
        assertEq(uint8(statusOf(a)), uint8(OrioleEscrow.Status.Disputed));
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, a, OrioleEscrow.Status.Disputed));
        escrow.openDispute(a);
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, a, OrioleEscrow.Status.Disputed));
        escrow.markShipped(a);

        vm.prank(alice);
        bytes32 b = escrow.fund(terms(token, shop, AMOUNT, "b"));
        vm.prank(shop);
        escrow.markShipped(b);
        vm.warp(block.timestamp + DISPUTE_WINDOW - 1);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.DisputeOpened(b, shop);
        vm.prank(shop);
        escrow.openDispute(b);
    }

    function test_dispute_windowCloses() public {
        bytes32 id = shipped();
        uint256 closedAt = block.timestamp + DISPUTE_WINDOW;
        vm.warp(closedAt);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowDisputeWindowClosed.selector, id, closedAt, closedAt));
        escrow.openDispute(id);
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowDisputeWindowClosed.selector, id, closedAt, closedAt));
        escrow.openDispute(id);
    }

    function test_dispute_wrongCaller() public {
        bytes32 id = shipped();
        address[3] memory wrong = [stranger, arbiter, admin];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, wrong[i]));
            escrow.openDispute(id);
        }
    }

    function test_dispute_afterSettlementRefused() public {
        bytes32 id = funded();
        vm.prank(shop);
        escrow.refund(id, AMOUNT);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Refunded));
        escrow.openDispute(id);
    }

    function test_resolve_splitsByBps_roundingToMerchant() public {
        vm.prank(alice);
        bytes32 id = escrow.fund(terms(token, shop, 101, ORDER));
        vm.prank(shop);
        escrow.openDispute(id);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.DisputeResolved(id, arbiter, 3333, 33, 68);
        vm.prank(arbiter);
        escrow.resolveDispute(id, 3333); // 101 * 0.3333 = 33.66: the buyer gets 33, the merchant 68
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Resolved));
        assertEq(token.balanceOf(alice), FUNDS - 101 + 33);
        assertEq(token.balanceOf(shop), 1 + 68);
        assertEq(token.balanceOf(address(escrow)), 0);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Resolved));
        escrow.resolveDispute(id, 0);
    }

    function test_resolve_allToOneSide() public {
        bytes32 id = disputed();
        vm.prank(arbiter);
        escrow.resolveDispute(id, 10_000);
        assertEq(token.balanceOf(alice), FUNDS);
        vm.prank(alice);
        bytes32 other = escrow.fund(terms(token, shop, AMOUNT, "other"));
        vm.prank(alice);
        escrow.openDispute(other);
        vm.prank(arbiter);
        escrow.resolveDispute(other, 0);
        assertEq(token.balanceOf(shop), 1 + AMOUNT);
    }

    function test_resolve_refusals() public {
        bytes32 id = shipped();
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Shipped));
        escrow.resolveDispute(id, 5000);
        vm.prank(alice);
        escrow.openDispute(id);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidBps.selector, 10_001));
        escrow.resolveDispute(id, 10_001);
    }

    function test_resolve_wrongCaller() public {
        bytes32 id = disputed();
        bytes32 role = escrow.ARBITER_ROLE();
        address[4] memory wrong = [alice, shop, stranger, admin];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, wrong[i], role));
            escrow.resolveDispute(id, 5000);
        }
        // a revoked arbiter loses the power at once; a newly granted one has it
        address desk2 = makeAddr("desk2");
        vm.startPrank(admin);
        escrow.revokeRole(role, arbiter);
        escrow.grantRole(role, desk2);
        vm.stopPrank();
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, arbiter, role));
        escrow.resolveDispute(id, 5000);
        vm.prank(desk2);
        escrow.resolveDispute(id, 5000);
        assertEq(token.balanceOf(shop), 1 + AMOUNT / 2);
    }

    // ------------------------------------------------------------ settlement offers

    function test_settlement_buyerOffers_merchantAccepts() public {
        bytes32 id = shipped();
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.SettlementOffered(id, alice, 40e6, 60e6);
        vm.prank(alice);
        escrow.offerSettlement(id, 40e6, 60e6);
        OrioleEscrow.Offer memory o = escrow.getOffer(id);
        assertEq(o.buyerAmount, 40e6);
        assertEq(o.merchantAmount, 60e6);
        assertEq(uint8(o.proposer), uint8(OrioleEscrow.Party.Buyer));
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowSettled(id, shop, 40e6, 60e6);
        vm.prank(shop);
        escrow.acceptSettlement(id, 40e6, 60e6);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Settled));
        assertEq(token.balanceOf(alice), FUNDS - 60e6);
        assertEq(token.balanceOf(shop), 1 + 60e6);
        assertEq(uint8(escrow.getOffer(id).proposer), uint8(OrioleEscrow.Party.None));
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Settled));
        escrow.acceptSettlement(id, 40e6, 60e6);
    }

    function test_settlement_merchantOffersDuringDispute_buyerAccepts() public {
        bytes32 id = disputed();
        vm.prank(shop);
        escrow.offerSettlement(id, AMOUNT, 0); // a full refund offered as a settlement
        vm.prank(alice);
        escrow.acceptSettlement(id, AMOUNT, 0);
        assertEq(token.balanceOf(alice), FUNDS);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowWrongStatus.selector, id, OrioleEscrow.Status.Settled));
        escrow.resolveDispute(id, 0);
    }

    function test_settlement_counterOfferReplaces_andMismatchRefused() public {
        bytes32 id = funded();
        vm.prank(alice);
        escrow.offerSettlement(id, 50e6, 50e6);
        vm.prank(shop);
        escrow.offerSettlement(id, 20e6, 80e6);
        // the buyer accepting its own, replaced offer gets the current one named back
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowOfferMismatch.selector, id, 20e6, 80e6));
        escrow.acceptSettlement(id, 50e6, 50e6);
        // the merchant cannot accept its own offer
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, shop));
        escrow.acceptSettlement(id, 20e6, 80e6);
        vm.prank(alice);
        escrow.acceptSettlement(id, 20e6, 80e6);
        assertEq(token.balanceOf(shop), 1 + 80e6);
    }

    function test_settlement_invalidOffers() public {
        bytes32 id = funded();
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowNoOffer.selector, id));
        escrow.acceptSettlement(id, 0, AMOUNT);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSplit.selector, id, 50e6, 49e6, AMOUNT));
        escrow.offerSettlement(id, 50e6, 49e6);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSplit.selector, id, 50e6, 51e6, AMOUNT));
        escrow.offerSettlement(id, 50e6, 51e6);
        vm.expectRevert(
            abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSplit.selector, id, 1, type(uint256).max, AMOUNT)
        );
        escrow.offerSettlement(id, 1, type(uint256).max);
        vm.stopPrank();
    }

    function test_settlement_staleAfterPartialRefund() public {
        bytes32 id = funded();
        vm.prank(alice);
        escrow.offerSettlement(id, 50e6, 50e6);
        vm.prank(shop);
        escrow.refund(id, 10e6);
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSplit.selector, id, 50e6, 50e6, 90e6));
        escrow.acceptSettlement(id, 50e6, 50e6);
    }

    function test_settlement_wrongCaller() public {
        bytes32 id = funded();
        address[3] memory wrong = [stranger, arbiter, admin];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, wrong[i]));
            escrow.offerSettlement(id, 0, AMOUNT);
        }
        vm.prank(alice);
        escrow.offerSettlement(id, 0, AMOUNT);
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.prank(wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, wrong[i]));
            escrow.acceptSettlement(id, 0, AMOUNT);
        }
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, alice));
        escrow.acceptSettlement(id, 0, AMOUNT);
    }

    // ------------------------------------------------------------ admin

    function test_admin_tokenAllowlist() public {
        bytes32 id = funded();
        address t = address(token);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, bytes32(0))
        );
        escrow.setTokenAllowed(t, false);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, arbiter, bytes32(0)));
        escrow.setTokenAllowed(t, false);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.TokenAllowed(t, false);
        vm.prank(admin);
        escrow.setTokenAllowed(t, false);
        assertFalse(escrow.isTokenAllowed(t));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowTokenNotAllowed.selector, t));
        escrow.fund(terms(token, shop, AMOUNT, "new"));
        // the open escrow still settles
        vm.prank(alice);
        escrow.release(id);
        assertEq(token.balanceOf(shop), 1 + AMOUNT);
    }

    function test_admin_rolesAtDeployment() public view {
        assertTrue(escrow.hasRole(bytes32(0), admin));
        assertTrue(escrow.hasRole(escrow.ARBITER_ROLE(), arbiter));
        assertFalse(escrow.hasRole(escrow.ARBITER_ROLE(), admin));
        assertTrue(escrow.isTokenAllowed(address(token)));
        assertTrue(escrow.isTokenAllowed(address(eur)));
    }

    // ------------------------------------------------------------ paused token, frozen parties

    /// @dev A paused token refuses every move: each step reverts and the escrow keeps its state and funds.
    function test_pausedToken_stepsRevertAndNothingChanges() public {
        bytes32 id = shipped();
        vm.prank(pauserAcct);
        token.pause();
        bytes memory paused = abi.encodeWithSelector(TokenRoles.StableTokenPaused.selector);
        vm.prank(alice);
        vm.expectRevert(paused);
        escrow.fund(terms(token, shop, AMOUNT, "while paused"));
        vm.prank(alice);
        vm.expectRevert(paused);
        escrow.release(id);
        vm.prank(shop);
        vm.expectRevert(paused);
        escrow.refund(id, 1);
        vm.prank(alice);
        escrow.offerSettlement(id, 1, AMOUNT - 1); // no token moves: allowed
        vm.prank(shop);
        vm.expectRevert(paused);
        escrow.acceptSettlement(id, 1, AMOUNT - 1);
        vm.warp(block.timestamp + RELEASE_TIMEOUT);
        vm.expectRevert(paused);
        escrow.releaseAfterTimeout(id);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Shipped));
        assertEq(held(id), AMOUNT);
        assertEq(token.balanceOf(address(escrow)), AMOUNT);
        // the other currency is unaffected
        vm.prank(alice);
        escrow.fund(terms(eur, shop, 1e6, ORDER));
        vm.prank(pauserAcct);
        token.unpause();
        escrow.releaseAfterTimeout(id);
        assertEq(token.balanceOf(shop), 1 + AMOUNT);
    }

    function test_pausedToken_disputeResolutionWaits() public {
        bytes32 id = disputed();
        vm.prank(pauserAcct);
        token.pause();
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(TokenRoles.StableTokenPaused.selector));
        escrow.resolveDispute(id, 5000);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Disputed));
        vm.prank(pauserAcct);
        token.unpause();
        vm.prank(arbiter);
        escrow.resolveDispute(id, 5000);
        assertEq(token.balanceOf(address(escrow)), 0);
    }

    /// @dev A frozen merchant cannot be paid (release waits), but can still refund the buyer.
    function test_frozenMerchant_releaseWaits_refundWorks() public {
        bytes32 id = shipped();
        vm.prank(compliance);
        token.freeze(shop);
        bytes memory frozen = abi.encodeWithSelector(PackedERC20.StableTokenAccountFrozen.selector, shop);
        vm.prank(alice);
        vm.expectRevert(frozen);
        escrow.release(id);
        vm.prank(alice);
        escrow.openDispute(id);
        vm.prank(arbiter);
        vm.expectRevert(frozen);
        escrow.resolveDispute(id, 5000);
        vm.prank(arbiter);
        escrow.resolveDispute(id, 10_000); // all to the buyer: the merchant's part is zero and not sent
        assertEq(token.balanceOf(alice), FUNDS);
    }

    function test_frozenBuyer_refundWaits() public {
        bytes32 id = funded();
        vm.prank(compliance);
        token.freeze(alice);
        vm.prank(shop);
        vm.expectRevert(abi.encodeWithSelector(PackedERC20.StableTokenAccountFrozen.selector, alice));
        escrow.refund(id, 1);
        assertEq(held(id), AMOUNT);
        vm.prank(compliance);
        token.unfreeze(alice);
        vm.prank(shop);
        escrow.refund(id, 1);
        assertEq(held(id), AMOUNT - 1);
    }

    function test_frozenEscrow_everythingWaits() public {
        bytes32 id = funded();
        vm.prank(compliance);
        token.freeze(address(escrow));
        bytes memory frozen = abi.encodeWithSelector(PackedERC20.StableTokenAccountFrozen.selector, address(escrow));
        vm.prank(alice);
        vm.expectRevert(frozen);
        escrow.fund(terms(token, shop, AMOUNT, "two"));
        vm.prank(alice);
        vm.expectRevert(frozen);
        escrow.release(id);
        assertEq(token.balanceOf(address(escrow)), AMOUNT);
    }

    // ------------------------------------------------------------ split arithmetic (fuzz)

    function testFuzz_splitAmount_exactAndRounded(uint96 amount, uint16 bpsSeed) public view {
        uint256 bps = bound(bpsSeed, 0, 10_000);
        (uint256 b, uint256 m) = escrow.splitAmount(amount, bps);
        assertEq(b + m, amount, "no wei lost or created");
        // the buyer's part is amount * bps / 10000 rounded down: within one wei below the exact share
        assertLe(b * 10_000, uint256(amount) * bps);
        assertGt((b + 1) * 10_000, uint256(amount) * bps);
        // so the merchant's part is at most one wei above its exact share
        assertGe(m * 10_000, uint256(amount) * (10_000 - bps));
        assertLt(m * 10_000, uint256(amount) * (10_000 - bps) + 10_000);
    }

    function testFuzz_splitAmount_refusesBpsAbove10000(uint256 amount, uint256 bps) public {
        bps = bound(bps, 10_001, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowInvalidBps.selector, bps));
        escrow.splitAmount(amount, bps);
    }

    /// @dev Through the contract: the tokens that leave equal the amount held, split as splitAmount says.
    function testFuzz_resolve_paysExactly(uint256 amount, uint256 refunded, uint16 bpsSeed) public {
        amount = bound(amount, 1, FUNDS);
        refunded = bound(refunded, 0, amount - 1);
        uint256 bps = bound(bpsSeed, 0, 10_000);
        vm.prank(alice);
        bytes32 id = escrow.fund(terms(token, shop, amount, ORDER));
        if (refunded != 0) {
            vm.prank(shop);
            escrow.refund(id, refunded);
        }
        vm.prank(shop);
        escrow.openDispute(id);
        uint256 aliceBefore = token.balanceOf(alice);
        uint256 shopBefore = token.balanceOf(shop);
        vm.prank(arbiter);
        escrow.resolveDispute(id, bps);
        uint256 toBuyer = token.balanceOf(alice) - aliceBefore;
        uint256 toMerchant = token.balanceOf(shop) - shopBefore;
        assertEq(toBuyer + toMerchant, amount - refunded);
        assertEq(toBuyer, (amount - refunded) * bps / 10_000);
        assertEq(token.balanceOf(address(escrow)), 0);
        assertEq(token.balanceOf(alice) + token.balanceOf(shop), FUNDS + 1);
    }

    function testFuzz_settlement_paysExactly(uint256 amount, uint256 buyerPart) public {
        amount = bound(amount, 1, FUNDS);
        buyerPart = bound(buyerPart, 0, amount);
        vm.prank(alice);
        bytes32 id = escrow.fund(terms(token, shop, amount, ORDER));
        vm.prank(shop);
        escrow.offerSettlement(id, buyerPart, amount - buyerPart);
        vm.prank(alice);
        escrow.acceptSettlement(id, buyerPart, amount - buyerPart);
        assertEq(token.balanceOf(alice), FUNDS - amount + buyerPart);
        assertEq(token.balanceOf(shop), 1 + amount - buyerPart);
        assertEq(token.balanceOf(address(escrow)), 0);
    }
}
