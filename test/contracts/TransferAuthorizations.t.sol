// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {TransferAuthorizations} from "../../contracts/token/TransferAuthorizations.sol";
import {TypedSignatures} from "../../contracts/token/TypedSignatures.sol";

/// @dev ERC-3009: transfer/receive/cancel, both signature forms, every replay, contract signers.
contract TransferAuthorizationsTest is StableTokenTestBase {
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    bytes32 internal constant NONCE = keccak256("nonce-1");
    uint256 internal validBefore;

    function setUp() public override {
        super.setUp();
        validBefore = block.timestamp + 1 hours;
    }

    function twaDigest(address from, bytes32 nonce) internal view returns (bytes32) {
        return authDigest(token, TWA_TYPEHASH, from, bob, 3e6, 0, validBefore, nonce);
    }

    function submitTwa(address from, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) internal {
        token.transferWithAuthorization(from, bob, 3e6, 0, validBefore, nonce, v, r, s);
    }

    function test_typehashesAreEip3009() public view {
        assertEq(token.TRANSFER_WITH_AUTHORIZATION_TYPEHASH(), TWA_TYPEHASH);
        assertEq(token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH(), RWA_TYPEHASH);
        assertEq(token.CANCEL_AUTHORIZATION_TYPEHASH(), CANCEL_TYPEHASH);
    }

    function test_transferWithAuthorization_vrs() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(alice, NONCE));
        vm.expectEmit(address(token));
        emit AuthorizationUsed(alice, NONCE);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, bob, 3e6);
        vm.prank(relayer);
        submitTwa(alice, NONCE, v, r, s);
        assertEq(token.balanceOf(bob), FUNDS + 3e6);
        assertTrue(token.authorizationState(alice, NONCE));
    }

    function test_transferWithAuthorization_bytes() public {
        bytes memory sig = signBytes(aliceKey, twaDigest(alice, NONCE));
        vm.prank(relayer);
        token.transferWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, sig);
        assertEq(token.balanceOf(bob), FUNDS + 3e6);
    }

    function test_receiveWithAuthorization_onlyPayee() public {
        bytes32 digest = authDigest(token, RWA_TYPEHASH, alice, bob, 3e6, 0, validBefore, NONCE);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, digest);
        vm.expectRevert(abi.encodeWithSelector(TransferAuthorizations.StableTokenCallerNotPayee.selector, relayer, bob));
        vm.prank(relayer);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        assertEq(token.balanceOf(bob), FUNDS + 3e6);
    }

    function test_receiveWithAuthorization_bytes() public {
        bytes32 digest = authDigest(token, RWA_TYPEHASH, alice, bob, 3e6, 0, validBefore, NONCE);
        bytes memory sig = signBytes(aliceKey, digest);
        vm.expectRevert(abi.encodeWithSelector(TransferAuthorizations.StableTokenCallerNotPayee.selector, alice, bob));
        vm.prank(alice);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, sig);
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, sig);
        assertEq(token.balanceOf(bob), FUNDS + 3e6);
    }

    function test_receiveSignatureIsNotATransferSignature() public {
        bytes32 digest = authDigest(token, RWA_TYPEHASH, alice, bob, 3e6, 0, validBefore, NONCE);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, digest);
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        submitTwa(alice, NONCE, v, r, s);
    }

    // ------------------------------------------------------------ replays

    function test_replay_sameAuthorizationTwice() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(alice, NONCE));
        submitTwa(alice, NONCE, v, r, s);
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationUsed.selector, alice, NONCE)
        );
        submitTwa(alice, NONCE, v, r, s);
        // Nor through the other form, nor as a receive.
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationUsed.selector, alice, NONCE)
        );
        token.transferWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, abi.encodePacked(r, s, v));
    }

    function test_replay_otherChainId() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(alice, NONCE));
        vm.chainId(block.chainid + 1);
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        submitTwa(alice, NONCE, v, r, s);
    }

    function test_replay_otherToken() public {
        StableToken other = deployToken("Oriole Euro", "oEUR", "EUR");
        vm.prank(minter);
        other.mint(alice, FUNDS);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(alice, NONCE));
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        other.transferWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
    }

    function test_replay_cancelled() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, cancelDigest(token, alice, NONCE));
        vm.expectEmit(address(token));
        emit AuthorizationCanceled(alice, NONCE);
        vm.prank(relayer);
        token.cancelAuthorization(alice, NONCE, v, r, s);
        assertTrue(token.authorizationState(alice, NONCE));
        (v, r, s) = sign(aliceKey, twaDigest(alice, NONCE));
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationUsed.selector, alice, NONCE)
        );
        submitTwa(alice, NONCE, v, r, s);
        // A used or cancelled nonce cannot be cancelled again.
        bytes memory cancelSig = signBytes(aliceKey, cancelDigest(token, alice, NONCE));
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationUsed.selector, alice, NONCE)
        );
        token.cancelAuthorization(alice, NONCE, cancelSig);
    }

    function test_cancel_bytesAndWrongSigner() public {
        bytes32 nonce2 = keccak256("nonce-2");
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, bob, alice));
        token.cancelAuthorization(alice, nonce2, signBytes(bobKey, cancelDigest(token, alice, nonce2)));
        token.cancelAuthorization(alice, nonce2, signBytes(aliceKey, cancelDigest(token, alice, nonce2)));
        assertTrue(token.authorizationState(alice, nonce2));
    }

    function test_replay_expired() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(alice, NONCE));
        vm.warp(validBefore);
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationExpired.selector, validBefore, validBefore
            )
        );
        submitTwa(alice, NONCE, v, r, s);
    }

    function test_replay_notYetValid() public {
        uint256 validAfter = block.timestamp + 10;
        bytes32 digest = authDigest(token, TWA_TYPEHASH, alice, bob, 3e6, validAfter, validBefore, NONCE);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, digest);
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationNotYetValid.selector, validAfter, block.timestamp
            )
        );
        token.transferWithAuthorization(alice, bob, 3e6, validAfter, validBefore, NONCE, v, r, s);
        vm.warp(validAfter + 1);
        token.transferWithAuthorization(alice, bob, 3e6, validAfter, validBefore, NONCE, v, r, s);
    }

    function test_replay_highS() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(alice, NONCE));
        (uint8 v2, bytes32 r2, bytes32 s2) = highS(v, r, s);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, s2));
        submitTwa(alice, NONCE, v2, r2, s2);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, s2));
        token.cancelAuthorization(alice, NONCE, abi.encodePacked(r2, s2, v2));
        // The low-s original still works once.
        submitTwa(alice, NONCE, v, r, s);
    }

    function test_malformedSignature() public {
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 66));
        token.transferWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, new bytes(66));
        vm.expectRevert(ECDSA.ECDSAInvalidSignature.selector);
        submitTwa(alice, NONCE, 29, bytes32(uint256(1)), bytes32(uint256(1)));
    }

    // ------------------------------------------------------------ ERC-1271 on every path

    function test_contractSigner_accepts_transfer() public {
        address w = address(wallet);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(w, keccak256("w1")));
        submitTwa(w, keccak256("w1"), v, r, s);
        bytes memory sig = signBytes(aliceKey, twaDigest(w, keccak256("w2")));
        token.transferWithAuthorization(w, bob, 3e6, 0, validBefore, keccak256("w2"), sig);
        assertEq(token.balanceOf(bob), FUNDS + 6e6);
    }

    function test_contractSigner_accepts_receive() public {
        address w = address(wallet);
        bytes32 rd = authDigest(token, RWA_TYPEHASH, w, bob, 3e6, 0, validBefore, keccak256("w3"));
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, rd);
        vm.prank(bob);
        token.receiveWithAuthorization(w, bob, 3e6, 0, validBefore, keccak256("w3"), v, r, s);
        rd = authDigest(token, RWA_TYPEHASH, w, bob, 3e6, 0, validBefore, keccak256("w4"));
        bytes memory sig = signBytes(aliceKey, rd);
        vm.prank(bob);
        token.receiveWithAuthorization(w, bob, 3e6, 0, validBefore, keccak256("w4"), sig);
        assertEq(token.balanceOf(bob), FUNDS + 6e6);
    }

    function test_contractSigner_accepts_cancel() public {
        address w = address(wallet);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, cancelDigest(token, w, keccak256("c1")));
        token.cancelAuthorization(w, keccak256("c1"), v, r, s);
        token.cancelAuthorization(w, keccak256("c2"), signBytes(aliceKey, cancelDigest(token, w, keccak256("c2"))));
        assertTrue(token.authorizationState(w, keccak256("c1")));
        assertTrue(token.authorizationState(w, keccak256("c2")));
    }

    function test_contractSigner_rejectsOnEveryPath() public {
        address w = address(wallet);
        wallet.setAccepting(false);
        bytes memory invalid =
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, w);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, twaDigest(w, NONCE));
        vm.expectRevert(invalid);
        submitTwa(w, NONCE, v, r, s);
        vm.expectRevert(invalid);
        token.transferWithAuthorization(w, bob, 3e6, 0, validBefore, NONCE, abi.encodePacked(r, s, v));
        bytes32 rd = authDigest(token, RWA_TYPEHASH, w, bob, 3e6, 0, validBefore, NONCE);
        (v, r, s) = sign(aliceKey, rd);
        vm.startPrank(bob);
        vm.expectRevert(invalid);
        token.receiveWithAuthorization(w, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        vm.expectRevert(invalid);
        token.receiveWithAuthorization(w, bob, 3e6, 0, validBefore, NONCE, abi.encodePacked(r, s, v));
        vm.stopPrank();
        (v, r, s) = sign(aliceKey, cancelDigest(token, w, NONCE));
        vm.expectRevert(invalid);
        token.cancelAuthorization(w, NONCE, v, r, s);
        vm.expectRevert(invalid);
        token.cancelAuthorization(w, NONCE, abi.encodePacked(r, s, v));
        assertFalse(token.authorizationState(w, NONCE));
    }

    function testFuzz_transferWithAuthorization(uint256 value, bytes32 nonce, uint256 window) public {
        value = bound(value, 0, FUNDS);
        window = bound(window, 1, 365 days);
        uint256 before_ = block.timestamp + window;
        bytes32 digest = authDigest(token, TWA_TYPEHASH, alice, bob, value, 0, before_, nonce);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, digest);
        token.transferWithAuthorization(alice, bob, value, 0, before_, nonce, v, r, s);
        assertEq(token.balanceOf(alice), FUNDS - value);
        assertEq(token.balanceOf(bob), FUNDS + value);
        assertTrue(token.authorizationState(alice, nonce));
    }
}
