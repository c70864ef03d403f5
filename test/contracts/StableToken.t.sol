// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";

contract StableTokenTest is Test {
    StableToken internal token;
    address internal admin = makeAddr("admin");
    address internal minter = makeAddr("minter");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    event Mint(address indexed minter, address indexed to, uint256 amount);
    event Burn(address indexed burner, uint256 amount);

    function setUp() public {
        token = new StableToken("Oriole US Dollar", "oUSD", "USD", admin);
        bytes32 minterRole = token.MINTER_ROLE();
        vm.prank(admin);
        token.grantRole(minterRole, minter);
    }

    function test_metadata() public view {
        assertEq(token.name(), "Oriole US Dollar");
        assertEq(token.symbol(), "oUSD");
        assertEq(token.currency(), "USD");
        assertEq(token.decimals(), 6);
        assertTrue(token.hasRole(token.DEFAULT_ADMIN_ROLE(), admin));
    }

    function test_constructor_rejectsBadCurrency() public {
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenInvalidCurrency.selector, ""));
        new StableToken("X", "X", "", admin);
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenInvalidCurrency.selector, "TOOLONGCODE"));
        new StableToken("X", "X", "TOOLONGCODE", admin);
    }

    function test_constructor_rejectsZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(StableToken.StableTokenInvalidAdmin.selector, address(0)));
        new StableToken("X", "X", "USD", address(0));
    }

    function test_mint_byMinter() public {
        vm.expectEmit(address(token));
        emit Mint(minter, alice, 5e6);
        vm.prank(minter);
        token.mint(alice, 5e6);
        assertEq(token.balanceOf(alice), 5e6);
        assertEq(token.totalSupply(), 5e6);
    }

    function test_mint_refusesNonMinter() public {
        bytes32 role = token.MINTER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.mint(alice, 1);
        // The admin grants roles but is not itself a minter.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role));
        vm.prank(admin);
        token.mint(alice, 1);
    }

    function test_mint_refusesZeroAmountAndZeroAddress() public {
        vm.startPrank(minter);
        vm.expectRevert(StableToken.StableTokenZeroAmount.selector);
        token.mint(alice, 0);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        token.mint(address(0), 1);
        vm.stopPrank();
    }

    function test_burn_ownBalanceOnly() public {
        vm.startPrank(minter);
        token.mint(minter, 10e6);
        vm.expectEmit(address(token));
        emit Burn(minter, 4e6);
        token.burn(4e6);
        vm.stopPrank();
        assertEq(token.balanceOf(minter), 6e6);
        assertEq(token.totalSupply(), 6e6);
    }

    function test_burn_refusesNonMinterAndOverBalance() public {
        vm.prank(minter);
        token.mint(alice, 10e6);
        bytes32 role = token.MINTER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, role));
        vm.prank(alice);
        token.burn(1);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, minter, 0, 1));
        vm.prank(minter);
        token.burn(1);
        vm.expectRevert(StableToken.StableTokenZeroAmount.selector);
        vm.prank(minter);
        token.burn(0);
    }

    function test_grantRole_refusesNonAdmin() public {
        bytes32 role = token.MINTER_ROLE();
        bytes32 adminRole = token.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, minter, adminRole)
        );
        vm.prank(minter);
        token.grantRole(role, alice);
    }

    function test_transfer_refusesOverBalance() public {
        vm.prank(minter);
        token.mint(alice, 1e6);
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 1e6, 1e6 + 1));
        vm.prank(alice);
        token.transfer(bob, 1e6 + 1);
    }

    function testFuzz_transfer_conservesBalances(uint256 minted, uint256 sent) public {
        minted = bound(minted, 1, type(uint128).max);
        sent = bound(sent, 0, minted);
        vm.prank(minter);
        token.mint(alice, minted);
        vm.prank(alice);
        assertTrue(token.transfer(bob, sent));
        assertEq(token.balanceOf(alice), minted - sent);
        assertEq(token.balanceOf(bob), sent);
        assertEq(token.totalSupply(), minted);
    }
}

/// @dev Drives random mints, burns and transfers among a fixed set of actors.
contract StableTokenHandler is Test {
    StableToken internal immutable token;
    address internal immutable minter;
    address[] internal actors;
    uint256 public minted;
    uint256 public burned;

    constructor(StableToken token_, address minter_) {
        token = token_;
        minter = minter_;
        actors.push(minter_);
        actors.push(makeAddr("a1"));
        actors.push(makeAddr("a2"));
        actors.push(makeAddr("a3"));
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    function mint(uint256 actorSeed, uint256 amount) external {
        amount = bound(amount, 1, 1e15);
        vm.prank(minter);
        token.mint(actors[actorSeed % actors.length], amount);
        minted += amount;
    }

    function burn(uint256 amount) external {
        uint256 bal = token.balanceOf(minter);
        if (bal == 0) return;
        amount = bound(amount, 1, bal);
        vm.prank(minter);
        token.burn(amount);
        burned += amount;
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = actors[fromSeed % actors.length];
        uint256 bal = token.balanceOf(from);
        amount = bound(amount, 0, bal);
        vm.prank(from);
        token.transfer(actors[toSeed % actors.length], amount);
    }
}

contract StableTokenInvariantTest is StdInvariant, Test {
    StableToken internal token;
    StableTokenHandler internal handler;

    function setUp() public {
        address admin = makeAddr("admin");
        address minter = makeAddr("minter");
        token = new StableToken("Oriole Euro", "oEUR", "EUR", admin);
        bytes32 role = token.MINTER_ROLE();
        vm.prank(admin);
        token.grantRole(role, minter);
        handler = new StableTokenHandler(token, minter);
        targetContract(address(handler));
    }

    function invariant_sumOfBalancesEqualsTotalSupply() public view {
        uint256 sum;
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            sum += token.balanceOf(handler.actorAt(i));
        }
        assertEq(sum, token.totalSupply());
    }

    function invariant_mintedMinusBurnedEqualsTotalSupply() public view {
        assertEq(handler.minted() - handler.burned(), token.totalSupply());
    }
}
