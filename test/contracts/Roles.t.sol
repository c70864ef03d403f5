// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {TokenRoles} from "../../contracts/token/TokenRoles.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {Payments} from "../../contracts/token/Payments.sol";
import {OZBaselineToken} from "../../contracts/mocks/OZBaselineToken.sol";

/// @dev Every role: who may act, that everyone else is refused, and the events.
contract RolesTest is StableTokenTestBase {
    event RoleAccountChanged(TokenRoles.Role indexed role, address indexed previousAccount, address indexed newAccount);
    event AdminTransferStarted(address indexed admin, address indexed pendingAdmin);
    event AdminTransferCanceled(address indexed admin, address indexed pendingAdmin);
    event Paused(address account);
    event Unpaused(address account);
    event Frozen(address indexed account);
    event Unfrozen(address indexed account);
    event Rescued(address indexed token, address indexed to, uint256 amount);
    event MerchantFeeSet(address indexed merchant, uint256 previousBps, uint256 bps);

    function expectUnauthorized(address caller, TokenRoles.Role role) internal {
        vm.expectRevert(abi.encodeWithSelector(TokenRoles.StableTokenUnauthorized.selector, caller, role));
    }

    function test_initialRoles() public view {
        assertEq(token.admin(), admin);
        assertEq(token.pendingAdmin(), address(0));
        assertEq(token.masterMinter(), masterMinter);
        assertEq(token.pauser(), pauserAcct);
        assertEq(token.complianceOfficer(), compliance);
        assertEq(token.rescuer(), rescuerAcct);
        assertEq(token.feeCollector(), collector);
        assertEq(token.roleAccount(TokenRoles.Role.FeeCollector), collector);
        assertTrue(token.isMinter(minter));
    }

    // ------------------------------------------------------------ admin, two steps

    function test_adminTransfer_twoSteps() public {
        address next = makeAddr("nextAdmin");
        vm.expectEmit(address(token));
        emit AdminTransferStarted(admin, next);
        vm.prank(admin);
        token.transferAdmin(next);
        assertEq(token.admin(), admin, "nothing changes before acceptance");
        assertEq(token.pendingAdmin(), next);

        vm.expectRevert(abi.encodeWithSelector(TokenRoles.StableTokenNotPendingAdmin.selector, alice, next));
        vm.prank(alice);
        token.acceptAdmin();

        vm.expectEmit(address(token));
        emit RoleAccountChanged(TokenRoles.Role.Admin, admin, next);
        vm.prank(next);
        token.acceptAdmin();
        assertEq(token.admin(), next);
        assertEq(token.pendingAdmin(), address(0));

        expectUnauthorized(admin, TokenRoles.Role.Admin);
        vm.prank(admin);
        token.setRoleAccount(TokenRoles.Role.Pauser, admin);
    }

    function test_adminTransfer_cancel() public {
        address next = makeAddr("nextAdmin");
        vm.startPrank(admin);
        token.transferAdmin(next);
        vm.expectEmit(address(token));
        emit AdminTransferCanceled(admin, next);
        token.cancelAdminTransfer();
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(TokenRoles.StableTokenNotPendingAdmin.selector, next, address(0)));
        vm.prank(next);
        token.acceptAdmin();
    }

    function test_adminTransfer_refusesWrongCallerAndZero() public {
        expectUnauthorized(alice, TokenRoles.Role.Admin);
        vm.prank(alice);
        token.transferAdmin(alice);
        expectUnauthorized(alice, TokenRoles.Role.Admin);
        vm.prank(alice);
        token.cancelAdminTransfer();
        vm.expectRevert(
            abi.encodeWithSelector(TokenRoles.StableTokenInvalidRoleAccount.selector, TokenRoles.Role.Admin, address(0))
        );
        vm.prank(admin);
        token.transferAdmin(address(0));
        vm.expectRevert(abi.encodeWithSelector(TokenRoles.StableTokenNotPendingAdmin.selector, admin, address(0)));
        vm.prank(admin);
        token.acceptAdmin();
    }

    // ------------------------------------------------------------ setRoleAccount

    function test_setRoleAccount_everyRole() public {
        for (uint8 r = 1; r <= uint8(TokenRoles.Role.FeeCollector); ++r) {
            TokenRoles.Role role = TokenRoles.Role(r);
            address previous = token.roleAccount(role);
            address next = address(uint160(0x1000 + r));
            vm.expectEmit(address(token));
            emit RoleAccountChanged(role, previous, next);
            vm.prank(admin);
            token.setRoleAccount(role, next);
            assertEq(token.roleAccount(role), next);
        }
        assertEq(token.masterMinter(), address(0x1001));
        assertEq(token.pauser(), address(0x1002));
        assertEq(token.complianceOfficer(), address(0x1003));
        assertEq(token.rescuer(), address(0x1004));
        assertEq(token.feeCollector(), address(0x1005));
    }

    function test_setRoleAccount_refusals() public {
        expectUnauthorized(masterMinter, TokenRoles.Role.Admin);
        vm.prank(masterMinter);
        token.setRoleAccount(TokenRoles.Role.Pauser, masterMinter);
        vm.expectRevert(
            abi.encodeWithSelector(TokenRoles.StableTokenInvalidRoleAccount.selector, TokenRoles.Role.Admin, alice)
        );
        vm.prank(admin);
        token.setRoleAccount(TokenRoles.Role.Admin, alice);
        vm.expectRevert(
            abi.encodeWithSelector(TokenRoles.StableTokenInvalidRoleAccount.selector, TokenRoles.Role.Rescuer, address(0))
        );
        vm.prank(admin);
        token.setRoleAccount(TokenRoles.Role.Rescuer, address(0));
    }

    // ------------------------------------------------------------ pauser

    function test_pause_unpause() public {
        vm.expectEmit(address(token));
        emit Paused(pauserAcct);
        vm.prank(pauserAcct);
        token.pause();
        assertTrue(token.paused());
        vm.expectRevert(TokenRoles.StableTokenPaused.selector);
        vm.prank(pauserAcct);
        token.pause();
        vm.expectEmit(address(token));
        emit Unpaused(pauserAcct);
        vm.prank(pauserAcct);
        token.unpause();
        assertFalse(token.paused());
        vm.expectRevert(TokenRoles.StableTokenNotPaused.selector);
        vm.prank(pauserAcct);
        token.unpause();
    }

    function test_pause_refusesWrongCaller() public {
        expectUnauthorized(admin, TokenRoles.Role.Pauser);
        vm.prank(admin);
        token.pause();
        vm.prank(pauserAcct);
        token.pause();
        expectUnauthorized(alice, TokenRoles.Role.Pauser);
        vm.prank(alice);
        token.unpause();
    }

    function test_pause_flagLeavesImplementationAddressIntact() public {
        bytes32 slot = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
        address impl = address(uint160(uint256(vm.load(address(token), slot))));
        vm.prank(pauserAcct);
        token.pause();
        uint256 raw = uint256(vm.load(address(token), slot));
        assertEq(raw >> 255, 1, "pause bit");
        assertEq(address(uint160(raw)), impl, "low 160 bits still the implementation");
        // Views still reach the implementation through the proxy.
        assertEq(token.balanceOf(alice), FUNDS);
    }

    // ------------------------------------------------------------ compliance officer

    function test_freeze_unfreeze() public {
        vm.expectEmit(address(token));
        emit Frozen(alice);
        vm.prank(compliance);
        token.freeze(alice);
        assertTrue(token.isFrozen(alice));
        assertEq(token.balanceOf(alice), FUNDS, "balance untouched");
        vm.expectEmit(address(token));
        emit Unfrozen(alice);
        vm.prank(compliance);
        token.unfreeze(alice);
        assertFalse(token.isFrozen(alice));
        assertEq(token.balanceOf(alice), FUNDS);
    }

    function test_freeze_keepsNonceAndFee() public {
        vm.prank(admin);
        token.setMerchantFee(alice, 250);
        vm.prank(compliance);
        token.freeze(alice);
        assertEq(token.merchantFee(alice), 250);
        assertEq(token.nonces(alice), 0);
    }

    function test_freeze_refusesWrongCaller() public {
        expectUnauthorized(admin, TokenRoles.Role.ComplianceOfficer);
        vm.prank(admin);
        token.freeze(alice);
        expectUnauthorized(pauserAcct, TokenRoles.Role.ComplianceOfficer);
        vm.prank(pauserAcct);
        token.unfreeze(alice);
    }

    // ------------------------------------------------------------ rescuer

    function test_rescue_otherToken() public {
        OZBaselineToken other = new OZBaselineToken(address(token), 500);
        vm.expectEmit(address(token));
        emit Rescued(address(other), bob, 200);
        vm.prank(rescuerAcct);
        token.rescueERC20(other, bob, 200);
        assertEq(other.balanceOf(bob), 200);
        assertEq(other.balanceOf(address(token)), 300);
    }

    function test_rescue_ownToken() public {
        vm.prank(alice);
        token.transfer(address(token), 7e6);
        vm.prank(rescuerAcct);
        token.rescueERC20(token, alice, 7e6);
        assertEq(token.balanceOf(alice), FUNDS);
        assertEq(token.balanceOf(address(token)), 0);
    }

    function test_rescue_refusesWrongCaller() public {
        expectUnauthorized(admin, TokenRoles.Role.Rescuer);
        vm.prank(admin);
        token.rescueERC20(token, admin, 1);
    }

    // ------------------------------------------------------------ admin: fees

    function test_setMerchantFee() public {
        vm.expectEmit(address(token));
        emit MerchantFeeSet(merchant, 0, 1000);
        vm.prank(admin);
        token.setMerchantFee(merchant, 1000);
        assertEq(token.merchantFee(merchant), 1000);
        assertEq(token.balanceOf(merchant), 1, "balance untouched");
        vm.expectRevert(abi.encodeWithSelector(Payments.StableTokenFeeTooHigh.selector, 1001, 1000));
        vm.prank(admin);
        token.setMerchantFee(merchant, 1001);
        expectUnauthorized(merchant, TokenRoles.Role.Admin);
        vm.prank(merchant);
        token.setMerchantFee(merchant, 0);
    }
}
