// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {StableTokenProxy} from "../../contracts/proxy/StableTokenProxy.sol";
import {StableTokenV2Mock} from "../../contracts/mocks/StableTokenV2Mock.sol";
import {TokenRoles} from "../../contracts/token/TokenRoles.sol";
import {OZBaselineToken} from "../../contracts/mocks/OZBaselineToken.sol";

/// @dev UUPS upgrades: state preserved, admin only, initializers locked.
contract UpgradeTest is StableTokenTestBase {
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    function implementationOf(address proxy) internal view returns (address) {
        return address(uint160(uint256(vm.load(proxy, IMPLEMENTATION_SLOT))));
    }

    function prepareState() internal {
        vm.prank(admin);
        token.setMerchantFee(merchant, 150);
        vm.prank(compliance);
        token.freeze(bob);
        vm.prank(alice);
        token.approve(relayer, 5e6);
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, merchant, 1, 0, block.timestamp + 1));
        token.permit(alice, merchant, 1, block.timestamp + 1, v, r, s);
        token.payWithAuthorization(signedPay(aliceKey, alice, merchant, 1e6, "x", 77));
    }

    function test_upgrade_preservesState() public {
        prepareState();
        uint256 supply = token.totalSupply();
        bytes32 domain = token.DOMAIN_SEPARATOR();
        StableTokenV2Mock v2 = new StableTokenV2Mock();
        vm.prank(admin);
        token.upgradeToAndCall(address(v2), abi.encodeCall(StableTokenV2Mock.initializeV2, (42)));
        StableTokenV2Mock upgraded = StableTokenV2Mock(address(token));
        assertEq(implementationOf(address(token)), address(v2));
        assertEq(upgraded.version(), "2");
        assertEq(upgraded.answer(), 42);
        assertEq(upgraded.name(), "Oriole US Dollar");
        assertEq(upgraded.currency(), "USD");
        assertEq(upgraded.totalSupply(), supply);
        assertEq(upgraded.balanceOf(alice), FUNDS - 1e6);
        assertEq(upgraded.merchantFee(merchant), 150);
        assertTrue(upgraded.isFrozen(bob));
        assertEq(upgraded.allowance(alice, relayer), 5e6);
        assertEq(upgraded.nonces(alice), 1);
        assertTrue(upgraded.isPaymentNonceUsed(alice, 77));
        assertEq(upgraded.admin(), admin);
        assertEq(upgraded.minterAllowance(minter), MINTER_ALLOWANCE - 3 * FUNDS - 1);
        assertEq(upgraded.DOMAIN_SEPARATOR(), domain);
        // and it still works
        vm.prank(alice);
        upgraded.transfer(merchant, 1);
    }

    function test_upgrade_whilePausedStaysPaused() public {
        vm.prank(pauserAcct);
        token.pause();
        StableTokenV2Mock v2 = new StableTokenV2Mock();
        vm.prank(admin);
        token.upgradeToAndCall(address(v2), "");
        assertTrue(token.paused(), "the pause flag survives the upgrade");
        assertEq(implementationOf(address(token)), address(v2));
        vm.prank(pauserAcct);
        token.unpause();
        assertEq(uint256(vm.load(address(token), IMPLEMENTATION_SLOT)), uint256(uint160(address(v2))));
    }

    function test_upgrade_onlyAdmin() public {
        StableTokenV2Mock v2 = new StableTokenV2Mock();
        address[5] memory others = [masterMinter, pauserAcct, compliance, rescuerAcct, alice];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(TokenRoles.StableTokenUnauthorized.selector, others[i], TokenRoles.Role.Admin)
            );
            vm.prank(others[i]);
            token.upgradeToAndCall(address(v2), "");
        }
    }

    function test_upgrade_refusesNonUUPSImplementation() public {
        address notUups = address(new OZBaselineToken(alice, 1));
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("ERC1967InvalidImplementation(address)")), notUups));
        vm.prank(admin);
        token.upgradeToAndCall(notUups, "");
    }

    function test_initializer_cannotRunTwice() public {
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        token.initialize("Evil", "EVL", "EVL", roles());
        StableTokenV2Mock v2 = new StableTokenV2Mock();
        vm.prank(admin);
        token.upgradeToAndCall(address(v2), abi.encodeCall(StableTokenV2Mock.initializeV2, (1)));
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        StableTokenV2Mock(address(token)).initializeV2(2);
    }

    function test_implementation_cannotBeInitializedDirectly() public {
        StableToken impl = new StableToken();
        vm.expectRevert(Initializable.InvalidInitialization.selector);
        impl.initialize("X", "X", "USD", roles());
        // nor upgraded outside a proxy
        vm.expectRevert(UUPSUpgradeable.UUPSUnauthorizedCallContext.selector);
        impl.upgradeToAndCall(address(impl), "");
    }

    function test_initialize_validatesInput() public {
        StableToken impl = new StableToken();
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenInvalidCurrency.selector, ""));
        new StableTokenProxy(address(impl), abi.encodeCall(StableToken.initialize, ("X", "X", "", roles())));
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenInvalidCurrency.selector, "TOOLONGCODE"));
        new StableTokenProxy(address(impl), abi.encodeCall(StableToken.initialize, ("X", "X", "TOOLONGCODE", roles())));
        StableToken.InitialRoles memory r = roles();
        r.pauser = address(0);
        vm.expectRevert(
            abi.encodeWithSelector(TokenRoles.StableTokenInvalidRoleAccount.selector, TokenRoles.Role.Pauser, address(0))
        );
        new StableTokenProxy(address(impl), abi.encodeCall(StableToken.initialize, ("X", "X", "USD", r)));
        r = roles();
        r.minter = address(0); // no first minter is fine
        StableToken t = StableToken(
            address(new StableTokenProxy(address(impl), abi.encodeCall(StableToken.initialize, ("X", "X", "USD", r))))
        );
        assertFalse(t.isMinter(minter));
    }
}
