// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {Permit} from "../../contracts/token/Permit.sol";
import {TypedSignatures} from "../../contracts/token/TypedSignatures.sol";

/// @dev EIP-2612 permit and ERC-5267: both forms, replays, malformed and contract signatures.
contract PermitTest is StableTokenTestBase {
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        deadline = block.timestamp + 1 hours;
    }

    function test_eip712Domain() public view {
        (
            bytes1 fields,
            string memory name_,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = token.eip712Domain();
        assertEq(fields, hex"0f");
        assertEq(name_, "Oriole US Dollar");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifyingContract, address(token));
        assertEq(salt, bytes32(0));
        assertEq(extensions.length, 0);
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Oriole US Dollar"),
                keccak256("1"),
                block.chainid,
                address(token)
            )
        );
        assertEq(token.DOMAIN_SEPARATOR(), expected);
        assertEq(token.PERMIT_TYPEHASH(), PERMIT_TYPEHASH);
    }

    function test_permit_vrs() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        vm.expectEmit(address(token));
        emit IERC20.Approval(alice, relayer, 9e6);
        vm.prank(bob); // anyone submits
        token.permit(alice, relayer, 9e6, deadline, v, r, s);
        assertEq(token.allowance(alice, relayer), 9e6);
        assertEq(token.nonces(alice), 1);
        assertEq(token.balanceOf(alice), FUNDS, "the nonce shares the balance's slot without touching it");
    }

    function test_permit_bytes() public {
        bytes memory sig = signBytes(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        token.permit(alice, relayer, 9e6, deadline, sig);
        assertEq(token.allowance(alice, relayer), 9e6);
        assertEq(token.nonces(alice), 1);
    }

    function test_permit_replaySameSignature() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        token.permit(alice, relayer, 9e6, deadline, v, r, s);
        // The nonce moved on: the digest differs, the signature recovers to someone else.
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        token.permit(alice, relayer, 9e6, deadline, v, r, s);
    }

    function test_permit_expired() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(Permit.ERC2612ExpiredSignature.selector, deadline));
        token.permit(alice, relayer, 9e6, deadline, v, r, s);
    }

    function test_permit_atDeadlineIsValid() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        vm.warp(deadline);
        token.permit(alice, relayer, 9e6, deadline, v, r, s);
    }

    function test_permit_otherChainId() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        vm.chainId(block.chainid + 1);
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        token.permit(alice, relayer, 9e6, deadline, v, r, s);
    }

    function test_permit_otherToken() public {
        StableToken other = deployToken("Oriole Euro", "oEUR", "EUR");
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        other.permit(alice, relayer, 9e6, deadline, v, r, s);
    }

    function test_permit_wrongValueOrSigner() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(bobKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, bob, alice));
        token.permit(alice, relayer, 9e6, deadline, v, r, s);
        (v, r, s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        vm.expectPartialRevert(TypedSignatures.StableTokenInvalidSigner.selector);
        token.permit(alice, relayer, 10e6, deadline, v, r, s);
    }

    function test_permit_highS() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        (uint8 v2, bytes32 r2, bytes32 s2) = highS(v, r, s);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, s2));
        token.permit(alice, relayer, 9e6, deadline, v2, r2, s2);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, s2));
        token.permit(alice, relayer, 9e6, deadline, abi.encodePacked(r2, s2, v2));
    }

    function test_permit_malformed() public {
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        token.permit(alice, relayer, 9e6, deadline, new bytes(64));
        vm.expectRevert(ECDSA.ECDSAInvalidSignature.selector);
        token.permit(alice, relayer, 9e6, deadline, 30, bytes32(uint256(1)), bytes32(uint256(2)));
    }

    function test_permit_contractSigner_accepts() public {
        bytes32 digest = permitDigest(token, address(wallet), relayer, 9e6, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, digest);
        token.permit(address(wallet), relayer, 9e6, deadline, v, r, s);
        assertEq(token.allowance(address(wallet), relayer), 9e6);
        digest = permitDigest(token, address(wallet), relayer, 5e6, 1, deadline);
        token.permit(address(wallet), relayer, 5e6, deadline, signBytes(aliceKey, digest));
        assertEq(token.allowance(address(wallet), relayer), 5e6);
    }

    function test_permit_contractSigner_rejects() public {
        bytes32 digest = permitDigest(token, address(wallet), relayer, 9e6, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, digest);
        wallet.setAccepting(false);
        vm.expectRevert(
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(wallet))
        );
        token.permit(address(wallet), relayer, 9e6, deadline, v, r, s);
        vm.expectRevert(
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(wallet))
        );
        token.permit(address(wallet), relayer, 9e6, deadline, signBytes(aliceKey, digest));
    }

    function testFuzz_permit_anyValueAndDeadline(uint256 value, uint256 dl) public {
        dl = bound(dl, block.timestamp, type(uint256).max);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, value, 0, dl));
        token.permit(alice, relayer, value, dl, v, r, s);
        assertEq(token.allowance(alice, relayer), value);
        assertEq(token.balanceOf(alice), FUNDS);
    }
}
