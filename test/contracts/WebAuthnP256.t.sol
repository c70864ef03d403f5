// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {WebAuthnP256} from "../../contracts/account/WebAuthnP256.sol";

/// @dev Exposes the library's check.
contract WebAuthnP256Harness {
    function verify(bytes32 challenge, bytes calldata sig) external view returns (bool) {
        return WebAuthnP256.verify(challenge, sig);
    }
}

/// @dev The clientDataJSON the library rebuilds (its base64url of the challenge) against OpenZeppelin's Base64.
contract WebAuthnP256Test is PasskeyTestBase {
    WebAuthnP256Harness internal harness;
    uint256 internal constant KEY = 0xA11CE;

    function setUp() public override {
        super.setUp();
        harness = new WebAuthnP256Harness();
    }

    function check(bytes32 challenge) internal view {
        bytes memory sig = assertion(KEY, challenge, bytes1(0x05));
        assertTrue(harness.verify(challenge, sig), "the browser's clientDataJSON is rebuilt");
        // a challenge one bit off encodes differently, so the same assertion fails
        assertFalse(harness.verify(challenge ^ bytes32(uint256(1)), sig), "last character");
        assertFalse(harness.verify(challenge ^ bytes32(uint256(1) << 255), sig), "first character");
        assertFalse(harness.verify(challenge ^ bytes32(uint256(1) << 64), sig), "across the 32-character boundary");
    }

    function test_Base64Url_EdgeChallenges() public view {
        check(bytes32(0)); // "AAAA...A"
        check(bytes32(type(uint256).max)); // "____..._w": '_' and the padded last character
        // every 6-bit value in turn, 0..41 then 22..63: the whole alphabet, '-' and '_' included
        for (uint256 start = 0; start <= 22; start += 22) {
            uint256 all;
            for (uint256 v = 0; v < 42; ++v) {
                all |= (start + v) << (250 - 6 * v);
            }
            check(bytes32(all));
        }
        check(bytes32(0xfbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbefbee)); // "----...": 62s
        check(keccak256("abc"));
    }

    function testFuzz_Base64Url_AnyChallenge(bytes32 challenge) public view {
        check(challenge);
    }
}
