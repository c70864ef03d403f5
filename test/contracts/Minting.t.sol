// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {TokenRoles} from "../../contracts/token/TokenRoles.sol";
import {PackedERC20} from "../../contracts/token/PackedERC20.sol";

/// @dev Master minter, minters and their allowances, mint and burn.
contract MintingTest is StableTokenTestBase {
    event Mint(address indexed minter, address indexed to, uint256 amount);
    event Burn(address indexed burner, uint256 amount);
    event MinterConfigured(address indexed minter, uint256 allowance);
    event MinterRemoved(address indexed minter);

    address internal minter2 = makeAddr("minter2");

    function test_configureMinter_andMintReducesAllowance() public {
        vm.expectEmit(address(token));
        emit MinterConfigured(minter2, 100e6);
        vm.prank(masterMinter);
        token.configureMinter(minter2, 100e6);
        assertTrue(token.isMinter(minter2));
        assertEq(token.minterAllowance(minter2), 100e6);

        vm.expectEmit(address(token));
        emit Mint(minter2, bob, 60e6);
        vm.prank(minter2);
        token.mint(bob, 60e6);
        assertEq(token.minterAllowance(minter2), 40e6);
        assertEq(token.balanceOf(bob), FUNDS + 60e6);

        vm.expectRevert(
            abi.encodeWithSelector(StableToken.StableTokenMintAllowanceExceeded.selector, minter2, 40e6, 40e6 + 1)
        );
        vm.prank(minter2);
        token.mint(bob, 40e6 + 1);
    }

    function test_configureMinter_refusals() public {
        vm.expectRevert(
            abi.encodeWithSelector(TokenRoles.StableTokenUnauthorized.selector, admin, TokenRoles.Role.MasterMinter)
        );
        vm.prank(admin);
        token.configureMinter(minter2, 1);
        vm.expectRevert(
            abi.encodeWithSelector(TokenRoles.StableTokenUnauthorized.selector, minter, TokenRoles.Role.MasterMinter)
        );
        vm.prank(minter);
        token.configureMinter(minter, 1e30);
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenInvalidMinterAllowance.selector, 2 ** 248));
        vm.prank(masterMinter);
        token.configureMinter(minter2, 2 ** 248);
    }

    function test_removeMinter() public {
        vm.expectEmit(address(token));
        emit MinterRemoved(minter);
        vm.prank(masterMinter);
        token.removeMinter(minter);
        assertFalse(token.isMinter(minter));
        assertEq(token.minterAllowance(minter), 0);
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenNotMinter.selector, minter));
        vm.prank(minter);
        token.mint(bob, 1);
        vm.expectRevert(
            abi.encodeWithSelector(TokenRoles.StableTokenUnauthorized.selector, alice, TokenRoles.Role.MasterMinter)
        );
        vm.prank(alice);
        token.removeMinter(minter);
    }

    function test_mint_refusals() public {
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenNotMinter.selector, masterMinter));
        vm.prank(masterMinter);
        token.mint(bob, 1);
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenNotMinter.selector, admin));
        vm.prank(admin);
        token.mint(bob, 1);
        vm.startPrank(minter);
        vm.expectRevert(StableToken.StableTokenZeroAmount.selector);
        token.mint(bob, 0);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        token.mint(address(0), 1);
        vm.stopPrank();
    }

    function test_mint_supplyCap() public {
        uint256 cap = type(uint128).max;
        vm.prank(masterMinter);
        token.configureMinter(minter2, type(uint248).max);
        uint256 supply = token.totalSupply();
        vm.prank(minter2);
        token.mint(bob, cap - supply);
        assertEq(token.totalSupply(), cap);
        vm.expectRevert(abi.encodeWithSelector(PackedERC20.StableTokenSupplyCapExceeded.selector, cap + 1, cap));
        vm.prank(minter2);
        token.mint(bob, 1);
        // A full balance leaves the packed fields alone.
        assertFalse(token.isFrozen(bob));
        assertEq(token.nonces(bob), 0);
    }

    function test_burn_ownBalanceOnly() public {
        mintTo(minter, 10e6);
        vm.expectEmit(address(token));
        emit Burn(minter, 4e6);
        vm.prank(minter);
        token.burn(4e6);
        assertEq(token.balanceOf(minter), 6e6);
        assertEq(token.totalSupply(), 3 * FUNDS + 1 + 6e6);
    }

    function test_burn_refusals() public {
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenNotMinter.selector, alice));
        vm.prank(alice);
        token.burn(1);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, minter, 0, 1));
        vm.prank(minter);
        token.burn(1);
        vm.expectRevert(StableToken.StableTokenZeroAmount.selector);
        vm.prank(minter);
        token.burn(0);
    }

    function testFuzz_mintThenBurn(uint256 allowance, uint256 minted, uint256 burned) public {
        allowance = bound(allowance, 1, 1e30);
        minted = bound(minted, 1, allowance);
        burned = bound(burned, 1, minted);
        vm.prank(masterMinter);
        token.configureMinter(minter2, allowance);
        uint256 supply = token.totalSupply();
        vm.startPrank(minter2);
        token.mint(minter2, minted);
        token.burn(burned);
        vm.stopPrank();
        assertEq(token.minterAllowance(minter2), allowance - minted, "burning does not restore the allowance");
        assertEq(token.balanceOf(minter2), minted - burned);
        assertEq(token.totalSupply(), supply + minted - burned);
    }
}
