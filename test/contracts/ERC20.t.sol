// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";

/// @dev The ERC-20 surface: metadata, transfer, approve, transferFrom.
contract ERC20Test is StableTokenTestBase {
    function test_metadata() public view {
        assertEq(token.name(), "Oriole US Dollar");
        assertEq(token.symbol(), "oUSD");
        assertEq(token.currency(), "USD");
        assertEq(token.decimals(), 6);
        assertEq(token.totalSupply(), 3 * FUNDS + 1);
    }

    function test_transfer() public {
        vm.expectEmit(address(token));
        emit IERC20.Transfer(alice, bob, 5e6);
        vm.prank(alice);
        assertTrue(token.transfer(bob, 5e6));
        assertEq(token.balanceOf(alice), FUNDS - 5e6);
        assertEq(token.balanceOf(bob), FUNDS + 5e6);
    }

    function test_transfer_toSelf() public {
        vm.prank(alice);
        token.transfer(alice, 5e6);
        assertEq(token.balanceOf(alice), FUNDS);
    }

    function test_transfer_refusals() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, FUNDS, FUNDS + 1));
        vm.prank(alice);
        token.transfer(bob, FUNDS + 1);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        vm.prank(alice);
        token.transfer(address(0), 1);
    }

    function test_approve_transferFrom() public {
        vm.expectEmit(address(token));
        emit IERC20.Approval(alice, relayer, 10e6);
        vm.prank(alice);
        token.approve(relayer, 10e6);
        assertEq(token.allowance(alice, relayer), 10e6);
        vm.prank(relayer);
        token.transferFrom(alice, bob, 4e6);
        assertEq(token.allowance(alice, relayer), 6e6);
        assertEq(token.balanceOf(bob), FUNDS + 4e6);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, relayer, 6e6, 7e6));
        vm.prank(relayer);
        token.transferFrom(alice, bob, 7e6);
    }

    function test_transferFrom_infiniteAllowanceIsNotDecreased() public {
        vm.prank(alice);
        token.approve(relayer, type(uint256).max);
        vm.prank(relayer);
        token.transferFrom(alice, bob, 4e6);
        assertEq(token.allowance(alice, relayer), type(uint256).max);
    }

    function test_approve_refusesZeroSpender() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidSpender.selector, address(0)));
        vm.prank(alice);
        token.approve(address(0), 1);
    }

    function testFuzz_transfer_conservesBalances(uint256 minted, uint256 sent) public {
        minted = bound(minted, 1, type(uint128).max - token.totalSupply());
        sent = bound(sent, 0, minted);
        address carol = makeAddr("carol");
        mintTo(carol, minted);
        vm.prank(carol);
        token.transfer(bob, sent);
        assertEq(token.balanceOf(carol), minted - sent);
        assertEq(token.balanceOf(bob), FUNDS + sent);
    }

    function testFuzz_transfer_neverTouchesPackedFields(uint256 amount, uint16 bps) public {
        bps = uint16(bound(bps, 0, 1000));
        amount = bound(amount, 0, FUNDS);
        vm.prank(admin);
        token.setMerchantFee(bob, bps);
        vm.prank(alice);
        token.transfer(bob, amount);
        assertEq(token.merchantFee(bob), bps);
        assertEq(token.nonces(bob), 0);
        assertFalse(token.isFrozen(bob));
        assertFalse(token.isFrozen(alice));
    }
}
