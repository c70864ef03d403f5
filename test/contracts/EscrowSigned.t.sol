// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EscrowTestBase} from "./EscrowTestBase.sol";
import {OrioleEscrow} from "../../contracts/escrow/OrioleEscrow.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {TypedSignatures} from "../../contracts/token/TypedSignatures.sol";
import {TransferAuthorizations} from "../../contracts/token/TransferAuthorizations.sol";

/// @dev The paths for accounts that cannot make arbitrary calls: funding with an ERC-3009
/// authorization and EIP-712 signed actions, by EOAs, an ERC-1271 wallet and a passkey account.
contract EscrowSignedTest is EscrowTestBase {
    OrioleEscrow.Action internal constant SHIP = OrioleEscrow.Action.MarkShipped;
    OrioleEscrow.Action internal constant RELEASE = OrioleEscrow.Action.Release;
    OrioleEscrow.Action internal constant REFUND = OrioleEscrow.Action.Refund;
    OrioleEscrow.Action internal constant DISPUTE = OrioleEscrow.Action.OpenDispute;
    OrioleEscrow.Action internal constant OFFER = OrioleEscrow.Action.OfferSettlement;
    OrioleEscrow.Action internal constant ACCEPT = OrioleEscrow.Action.AcceptSettlement;

    function relay(OrioleEscrow.SignedAction memory a, bytes memory sig) internal {
        vm.prank(relayer);
        escrow.executeSigned(a, sig);
    }

    function relayReverts(OrioleEscrow.SignedAction memory a, bytes memory sig, bytes memory err) internal {
        vm.prank(relayer);
        vm.expectRevert(err);
        escrow.executeSigned(a, sig);
    }

    // ------------------------------------------------------------ funding with an authorization

    function test_fundWithAuthorization_relayedByAnyone() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        bytes memory sig = fundingSignature(aliceKey, alice, t);
        assertEq(escrow.fundingNonce(alice, t), fundingNonceOf(alice, t));
        vm.prank(relayer);
        bytes32 id = escrow.fundWithAuthorization(t, alice, 0, block.timestamp + 1 hours, sig);
        assertEq(id, escrow.escrowId(alice, shop, address(token), ORDER));
        assertEq(escrow.getEscrow(id).buyer, alice);
        assertEq(token.balanceOf(address(escrow)), AMOUNT);
        assertTrue(token.authorizationState(alice, fundingNonceOf(alice, t)));
    }

    /// @dev A relayer cannot redirect the authorization to other terms: the nonce binds them.
    function test_fundWithAuthorization_termsCannotBeChanged() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        bytes memory sig = fundingSignature(aliceKey, alice, t);
        OrioleEscrow.Terms[4] memory tampered;
        for (uint256 i = 0; i < 4; ++i) {
            tampered[i] = terms(token, shop, AMOUNT, ORDER);
        }
        tampered[0].merchant = relayer;
        tampered[1].orderId = "other";
        tampered[2].releaseTimeout = 0;
        tampered[2].disputeWindow = 0;
        tampered[3].amount = AMOUNT - 1;
        for (uint256 i = 0; i < 4; ++i) {
            bytes32 digest = fundingDigest(alice, tampered[i]);
            address recovered = ecrecover(digest, uint8(sig[64]), bytes32(this.slice(sig, 0)), bytes32(this.slice(sig, 32)));
            vm.prank(relayer);
            vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
            escrow.fundWithAuthorization(tampered[i], alice, 0, block.timestamp + 1 hours, sig);
        }
        // claiming another buyer fails too: alice's signature recovers to someone else over bob's digest
        address recoveredForBob =
            ecrecover(fundingDigest(bob, t), uint8(sig[64]), bytes32(this.slice(sig, 0)), bytes32(this.slice(sig, 32)));
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recoveredForBob, bob));
        escrow.fundWithAuthorization(t, bob, 0, block.timestamp + 1 hours, sig);
        assertEq(token.balanceOf(address(escrow)), 0);
    }

    function slice(bytes calldata b, uint256 at) external pure returns (bytes32) {
        return bytes32(b[at:at + 32]);
    }

    function test_fundWithAuthorization_replayAndExpiry() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        bytes memory sig = fundingSignature(aliceKey, alice, t);
        uint256 validBefore = block.timestamp + 1 hours;
        vm.prank(relayer);
        bytes32 id = escrow.fundWithAuthorization(t, alice, 0, validBefore, sig);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowExists.selector, id));
        escrow.fundWithAuthorization(t, alice, 0, validBefore, sig);
        // the authorization itself is spent even once the escrow closed
        vm.prank(alice);
        escrow.release(id);
        assertTrue(token.authorizationState(alice, fundingNonceOf(alice, t)));

        OrioleEscrow.Terms memory t2 = terms(token, shop, AMOUNT, "late");
        bytes memory sig2 = fundingSignature(aliceKey, alice, t2);
        vm.warp(validBefore);
        vm.prank(relayer);
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationExpired.selector, validBefore, validBefore)
        );
        escrow.fundWithAuthorization(t2, alice, 0, validBefore, sig2);
    }

    function test_fundWithAuthorization_contractWallet() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        bytes memory sig = fundingSignature(aliceKey, address(wallet), t); // the wallet's owner signs
        wallet.setAccepting(false);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(wallet)));
        escrow.fundWithAuthorization(t, address(wallet), 0, block.timestamp + 1 hours, sig);
        wallet.setAccepting(true);
        vm.prank(relayer);
        bytes32 id = escrow.fundWithAuthorization(t, address(wallet), 0, block.timestamp + 1 hours, sig);
        assertEq(escrow.getEscrow(id).buyer, address(wallet));
        // and it releases with a signed action through ERC-1271
        OrioleEscrow.SignedAction memory a = action(address(wallet), RELEASE, id, 0, 0, 0);
        relay(a, signAction(aliceKey, a));
        assertEq(token.balanceOf(shop), 1 + AMOUNT);
    }

    /// @dev A passkey account (device phoneKey) funds AMOUNT for `shop` with a relayed, passkey-signed authorization.
    function passkeyFunded() internal returns (PasskeyAccount acct, bytes32 id) {
        acct = newAccount(phoneKey);
        mintTo(address(acct), AMOUNT);
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        bytes memory fundSig = assertion(phoneKey, messageDigest(address(acct), fundingDigest(address(acct), t)), FLAGS_UP_UV);
        vm.prank(relayer);
        id = escrow.fundWithAuthorization(t, address(acct), 0, block.timestamp + 1 hours, fundSig);
    }

    /// @dev The issue's passkey scene: a passkey account funds an escrow and releases it, relayed.
    function test_passkeyAccount_fundsAndReleases() public {
        (PasskeyAccount acct, bytes32 id) = passkeyFunded();
        assertEq(token.balanceOf(address(acct)), 0);

        OrioleEscrow.SignedAction memory ship = action(shop, SHIP, id, 0, 0, 0);
        relay(ship, signAction(shopKey, ship));
        OrioleEscrow.SignedAction memory rel = action(address(acct), RELEASE, id, 0, 0, 0);
        bytes memory relSig = assertion(phoneKey, messageDigest(address(acct), actionDigest(rel)), FLAGS_UP_UV);
        // without user verification the account refuses
        bytes memory noUv = assertion(phoneKey, messageDigest(address(acct), actionDigest(rel)), FLAG_UP);
        relayReverts(rel, noUv, abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSignature.selector, address(acct)));
        // another device's assertion is refused
        bytes memory stranger_ = assertion(strangerKey, messageDigest(address(acct), actionDigest(rel)), FLAGS_UP_UV);
        relayReverts(rel, stranger_, abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSignature.selector, address(acct)));
        // the bare digest (not wrapped in the account's OrioleMessage) is refused
        bytes memory bare = assertion(phoneKey, actionDigest(rel), FLAGS_UP_UV);
        relayReverts(rel, bare, abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSignature.selector, address(acct)));
        relay(rel, relSig);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Released));
        assertEq(token.balanceOf(shop), 1 + AMOUNT);
    }

    function test_passkeyAccount_disputesAndAcceptsOffer() public {
        (PasskeyAccount acct, bytes32 id) = passkeyFunded();
        OrioleEscrow.SignedAction memory d = action(address(acct), DISPUTE, id, 0, 0, 7);
        relay(d, assertion(phoneKey, messageDigest(address(acct), actionDigest(d)), FLAGS_UP_UV));
        vm.prank(shop);
        escrow.offerSettlement(id, 70e6, 30e6);
        OrioleEscrow.SignedAction memory acc = action(address(acct), ACCEPT, id, 70e6, 30e6, 8);
        relay(acc, assertion(phoneKey, messageDigest(address(acct), actionDigest(acc)), FLAGS_UP_UV));
        assertEq(token.balanceOf(address(acct)), 70e6);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Settled));
    }

    // ------------------------------------------------------------ signed actions (EOA)

    function test_signed_everyAction() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(shop, REFUND, id, 10e6, 0, 1);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.NonceUsed(shop, 1);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowRefunded(id, 10e6, 90e6);
        relay(a, signAction(shopKey, a));

        a = action(shop, SHIP, id, 0, 0, 2);
        relay(a, signAction(shopKey, a));
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Shipped));

        a = action(alice, OFFER, id, 45e6, 45e6, 1);
        relay(a, signAction(aliceKey, a));
        assertEq(uint8(escrow.getOffer(id).proposer), uint8(OrioleEscrow.Party.Buyer));

        a = action(shop, DISPUTE, id, 0, 0, 3);
        relay(a, signAction(shopKey, a));
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Disputed));

        a = action(shop, ACCEPT, id, 45e6, 45e6, 4);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.EscrowSettled(id, shop, 45e6, 45e6);
        relay(a, signAction(shopKey, a));
        assertEq(token.balanceOf(alice), FUNDS - AMOUNT + 55e6);
        assertEq(token.balanceOf(shop), 1 + 45e6);

        vm.prank(alice);
        bytes32 id2 = escrow.fund(terms(token, shop, AMOUNT, "two"));
        a = action(alice, RELEASE, id2, 0, 0, 2);
        relay(a, signAction(aliceKey, a));
        assertEq(token.balanceOf(shop), 1 + 45e6 + AMOUNT);
    }

    function test_signed_replayRefused() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(shop, REFUND, id, 1e6, 0, 42);
        bytes memory sig = signAction(shopKey, a);
        relay(a, sig);
        assertTrue(escrow.isNonceUsed(shop, 42));
        relayReverts(a, sig, abi.encodeWithSelector(OrioleEscrow.EscrowNonceUsed.selector, shop, 42));
        assertEq(held(id), AMOUNT - 1e6);
        // the same nonce of another signer is independent
        assertFalse(escrow.isNonceUsed(alice, 42));
    }

    function test_signed_expiry() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(alice, RELEASE, id, 0, 0, 0);
        bytes memory sig = signAction(aliceKey, a);
        vm.warp(a.deadline);
        relay(a, sig); // valid up to and including the deadline
        vm.prank(alice);
        bytes32 id2 = escrow.fund(terms(token, shop, AMOUNT, "x"));
        a = action(alice, RELEASE, id2, 0, 0, 1);
        sig = signAction(aliceKey, a);
        vm.warp(a.deadline + 1);
        relayReverts(a, sig, abi.encodeWithSelector(OrioleEscrow.EscrowActionExpired.selector, a.deadline, a.deadline + 1));
    }

    function test_signed_wrongSignerOrTampered() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(alice, RELEASE, id, 0, 0, 0);
        bytes memory err = abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSignature.selector, alice);
        // bob signs an action in alice's name
        relayReverts(a, signAction(bobKey, a), err);
        // the merchant signs a release claiming to be the buyer
        relayReverts(a, signAction(shopKey, a), err);
        // a valid signature over other fields
        bytes memory sig = signAction(aliceKey, a);
        a.escrowId = keccak256("other");
        relayReverts(a, sig, err);
        a.escrowId = id;
        a.nonce = 1;
        relayReverts(a, sig, err);
        a.nonce = 0;
        a.deadline += 1;
        relayReverts(a, sig, err);
        a.deadline -= 1;
        a.action = DISPUTE;
        relayReverts(a, sig, err);
        // malformed signatures
        relayReverts(action(alice, RELEASE, id, 0, 0, 0), hex"1234", err);
        relayReverts(action(alice, RELEASE, id, 0, 0, 0), "", err);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.Funded));
    }

    function test_signed_otherChainOrContractRefused() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(alice, RELEASE, id, 0, 0, 0);
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        bytes memory otherChain = signAction(aliceKey, a);
        vm.chainId(chainId);
        relayReverts(a, otherChain, abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSignature.selector, alice));
        // signed for another escrow contract (same chain)
        address[] memory none = new address[](0);
        OrioleEscrow real = escrow;
        escrow = new OrioleEscrow(admin, none, none);
        bytes memory otherContract = signAction(aliceKey, a);
        escrow = real;
        relayReverts(a, otherContract, abi.encodeWithSelector(OrioleEscrow.EscrowInvalidSignature.selector, alice));
        relay(a, signAction(aliceKey, a));
    }

    /// @dev A valid signature by a party acting outside its role: the same checks as a direct call.
    function test_signed_wrongPartyRefusedOnEveryAction() public {
        bytes32 id = funded();
        (address eve, uint256 eveKey) = makeAddrAndKey("eve");
        OrioleEscrow.SignedAction memory a;
        // buyer-only: release; merchant-only: ship, refund
        a = action(shop, RELEASE, id, 0, 0, 0);
        relayReverts(a, signAction(shopKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, shop));
        a = action(alice, SHIP, id, 0, 0, 0);
        relayReverts(a, signAction(aliceKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, alice));
        a = action(alice, REFUND, id, 1, 0, 0);
        relayReverts(a, signAction(aliceKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, alice));
        // strangers on every action
        OrioleEscrow.Action[6] memory all = [SHIP, RELEASE, REFUND, DISPUTE, OFFER, ACCEPT];
        for (uint256 i = 0; i < all.length; ++i) {
            bool split = all[i] == OFFER || all[i] == ACCEPT;
            a = action(eve, all[i], id, all[i] == REFUND ? 1 : 0, split ? AMOUNT : 0, i);
            relayReverts(a, signAction(eveKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, eve));
        }
        // accepting one's own offer
        vm.prank(alice);
        escrow.offerSettlement(id, 0, AMOUNT);
        a = action(alice, ACCEPT, id, 0, AMOUNT, 9);
        relayReverts(a, signAction(aliceKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowUnauthorized.selector, id, alice));
    }

    function test_signed_unusedParamsRefused() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(alice, RELEASE, id, 1, 0, 0);
        relayReverts(a, signAction(aliceKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowInvalidActionParams.selector, RELEASE));
        a = action(shop, SHIP, id, 0, 1, 0);
        relayReverts(a, signAction(shopKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowInvalidActionParams.selector, SHIP));
        a = action(shop, REFUND, id, 1, 1, 0);
        relayReverts(a, signAction(shopKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowInvalidActionParams.selector, REFUND));
        a = action(alice, DISPUTE, id, 0, 1, 0);
        relayReverts(a, signAction(aliceKey, a), abi.encodeWithSelector(OrioleEscrow.EscrowInvalidActionParams.selector, DISPUTE));
        // an action number outside the enum does not decode
        a = action(alice, RELEASE, id, 0, 0, 0);
        bytes memory data = abi.encodeCall(OrioleEscrow.executeSigned, (a, signAction(aliceKey, a)));
        data[4 + 32 + 31] = bytes1(uint8(6)); // the action field
        vm.prank(relayer);
        (bool ok,) = address(escrow).call(data);
        assertFalse(ok);
    }

    function test_signed_invalidateNonce() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(alice, RELEASE, id, 0, 0, 5);
        bytes memory sig = signAction(aliceKey, a);
        vm.expectEmit(address(escrow));
        emit OrioleEscrow.NonceUsed(alice, 5);
        vm.prank(alice);
        escrow.invalidateNonce(5);
        relayReverts(a, sig, abi.encodeWithSelector(OrioleEscrow.EscrowNonceUsed.selector, alice, 5));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(OrioleEscrow.EscrowNonceUsed.selector, alice, 5));
        escrow.invalidateNonce(5);
    }

    function test_signed_hashMatchesOffChainDigest() public {
        bytes32 id = funded();
        OrioleEscrow.SignedAction memory a = action(shop, OFFER, id, 1, AMOUNT - 1, type(uint256).max);
        assertEq(escrow.hashSignedAction(a), actionDigest(a));
    }
}
