// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyFixture} from "./PasskeyTestBase.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";

/// @dev Daily spending limits: amount + fee counted, UTC day rollover, lowering at once, raising after the delay.
contract PasskeySpendingLimitTest is PasskeyFixture {
    uint256 internal nextNonce = 1;
    uint256 internal constant UNLIMITED = type(uint256).max;

    function setUp() public override {
        super.setUp();
        vm.warp(19_676 days + 2 hours); // 02:00 UTC
    }

    function setLimit(uint256 limit) internal {
        vm.prank(address(account));
        account.setDailyLimit(address(token), limit);
    }

    function intent(uint256 amount, uint256 maxFee) internal returns (PasskeyAccount.PaymentIntent memory i) {
        i = intentFor(merchant, amount, REF, nextNonce++, maxFee);
        i.deadline = block.timestamp + 7 days; // some tests wait for the raise delay
    }

    function expectLimit(uint256 requested, uint256 remaining) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountDailyLimitExceeded.selector, address(token), requested, remaining
            )
        );
    }

    function limitState() internal view returns (uint256 limit, uint256 spent, uint256 pending, uint256 since) {
        return account.dailyLimit(address(token));
    }

    function test_NeverSet_Unlimited() public {
        (uint256 limit, uint256 spent, uint256 pending, uint256 since) = limitState();
        assertEq(limit, UNLIMITED);
        assertEq(spent + pending + since, 0);
        pay(intent(FUNDS, 0));
        assertEq(token.balanceOf(address(account)), 0);
    }

    function test_FirstLimitAppliesAtOnce() public {
        vm.expectEmit(address(account));
        emit PasskeyAccount.DailyLimitSet(address(token), 10e6);
        setLimit(10e6);
        (uint256 limit,,,) = limitState();
        assertEq(limit, 10e6);
    }

    function test_CountsAmountPlusFee() public {
        setLimit(10e6);
        PasskeyAccount.PaymentIntent memory i = intent(9e6, 1e6);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        relay(i, 1e6, sig); // exactly the limit
        (, uint256 spent,,) = limitState();
        assertEq(spent, 10e6);

        PasskeyAccount.PaymentIntent memory j = intent(1, 0);
        sig = signIntent(phoneKey, address(account), j);
        expectLimit(1, 0);
        relay(j, 0, sig);
    }

    function test_RevertWhen_FeePushesOverLimit() public {
        setLimit(10e6);
        PasskeyAccount.PaymentIntent memory i = intent(10e6, 1);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        expectLimit(10e6 + 1, 10e6);
        relay(i, 1, sig);
        relay(i, 0, sig); // the same intent without a fee fits
        assertEq(token.balanceOf(merchant), 1 + 10e6);
    }

    function test_OtherTokenNotLimited() public {
        setLimit(1e6);
        (uint256 limit,,,) = account.dailyLimit(address(0xBEEF));
        assertEq(limit, UNLIMITED);
    }

    function test_DayRollover_ResetsAtUtcMidnight() public {
        setLimit(10e6);
        pay(intent(10e6, 0));
        uint256 midnight = (block.timestamp / 1 days + 1) * 1 days;

        vm.warp(midnight - 1);
        PasskeyAccount.PaymentIntent memory i = intent(1e6, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        expectLimit(1e6, 0);
        relay(i, 0, sig);

        vm.warp(midnight);
        (, uint256 spent,,) = limitState();
        assertEq(spent, 0);
        relay(i, 0, sig);
        (, spent,,) = limitState();
        assertEq(spent, 1e6);
    }

    function test_Lowering_AppliesAtOnce_AndClampsSpent() public {
        setLimit(10e6);
        pay(intent(6e6, 0));
        setLimit(4e6);
        (uint256 limit, uint256 spent,,) = limitState();
        assertEq(limit, 4e6);
        assertEq(spent, 4e6, "spent today never exceeds the limit");
        PasskeyAccount.PaymentIntent memory i = intent(1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        expectLimit(1, 0);
        relay(i, 0, sig);
    }

    function test_Raising_OnlyAfterTheDelay_AppliedLazily() public {
        setLimit(5e6);
        pay(intent(5e6, 0));
        uint256 t0 = block.timestamp;
        vm.expectEmit(address(account));
        emit PasskeyAccount.DailyLimitRaiseScheduled(address(token), 20e6, t0 + LIMIT_RAISE_DELAY);
        setLimit(20e6);
        (uint256 limit, uint256 spent, uint256 pending, uint256 since) = limitState();
        assertEq(limit, 5e6, "a raise does not apply at once");
        assertEq(spent, 5e6);
        assertEq(pending, 20e6);
        assertEq(since, t0);

        PasskeyAccount.PaymentIntent memory i = intent(1e6, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        vm.warp(t0 + LIMIT_RAISE_DELAY - 1);
        // the next day: spent resets, the old limit still applies
        (limit, spent,,) = limitState();
        assertEq(limit, 5e6);
        assertEq(spent, 0);
        PasskeyAccount.PaymentIntent memory big = intent(6e6, 0);
        bytes memory bigSig = signIntent(phoneKey, address(account), big);
        expectLimit(6e6, 5e6);
        relay(big, 0, bigSig);

        vm.warp(t0 + LIMIT_RAISE_DELAY);
        (limit,, pending, since) = limitState();
        assertEq(limit, 20e6, "the view shows the matured raise");
        assertEq(pending + since, 0);
        // the first payment after the delay applies it to storage
        vm.expectEmit(address(account));
        emit PasskeyAccount.DailyLimitSet(address(token), 20e6);
        relay(big, 0, bigSig);
        relay(i, 0, sig);
        (limit, spent,,) = limitState();
        assertEq(limit, 20e6);
        assertEq(spent, 7e6);
    }

    function test_Lowering_DropsPendingRaise() public {
        setLimit(5e6);
        setLimit(50e6);
        setLimit(3e6);
        vm.warp(block.timestamp + LIMIT_RAISE_DELAY + 1);
        (uint256 limit,, uint256 pending, uint256 since) = limitState();
        assertEq(limit, 3e6);
        assertEq(pending + since, 0);
    }

    function test_RaiseAgain_RestartsTheClock() public {
        setLimit(5e6);
        setLimit(10e6);
        vm.warp(block.timestamp + LIMIT_RAISE_DELAY / 2);
        setLimit(12e6);
        vm.warp(block.timestamp + LIMIT_RAISE_DELAY / 2);
        (uint256 limit,, uint256 pending,) = limitState();
        assertEq(limit, 5e6);
        assertEq(pending, 12e6);
    }

    function test_RemovingTheLimit_IsARaise() public {
        setLimit(5e6);
        setLimit(UNLIMITED);
        (uint256 limit,, uint256 pending,) = limitState();
        assertEq(limit, 5e6);
        assertEq(pending, UNLIMITED);
        vm.warp(block.timestamp + LIMIT_RAISE_DELAY);
        pay(intent(100e6, 0));
        (limit,, pending,) = limitState();
        assertEq(limit, UNLIMITED);
        assertEq(pending, 0);
    }

    function test_RevertWhen_LimitTooLarge() public {
        vm.prank(address(account));
        vm.expectRevert(
            abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountDailyLimitTooLarge.selector, uint256(type(uint96).max), type(uint96).max
            )
        );
        account.setDailyLimit(address(token), type(uint96).max);
    }

    function test_SetByOwnerCall_RefusedFromOthers() public {
        callWithSig(account, phoneKey, abi.encodeCall(PasskeyAccount.setDailyLimit, (address(token), 1e6)), 500);
        (uint256 limit,,,) = limitState();
        assertEq(limit, 1e6);
        expectNotSelf(bob);
        vm.prank(bob);
        account.setDailyLimit(address(token), UNLIMITED);
    }

    /// @dev Over random limits and payments within a day: a payment passes iff spent + amount + fee <= limit.
    function testFuzz_LimitArithmetic(uint64 limit, uint64[4] memory amounts, uint32[4] memory fees) public {
        limit = uint64(bound(limit, 0, FUNDS));
        setLimit(limit);
        uint256 spent;
        for (uint256 k = 0; k < 4; ++k) {
            uint256 amount = bound(amounts[k], 0, FUNDS / 4);
            uint256 fee = bound(fees[k], 0, 1e6);
            PasskeyAccount.PaymentIntent memory i = intent(amount, fee);
            bytes memory sig = signIntent(phoneKey, address(account), i);
            if (spent + amount + fee > limit) {
                expectLimit(amount + fee, limit - spent);
                relay(i, fee, sig);
            } else {
                relay(i, fee, sig);
                spent += amount + fee;
            }
            (, uint256 spentToday,,) = limitState();
            assertEq(spentToday, spent);
            assertLe(spentToday, limit);
        }
        assertEq(token.balanceOf(address(account)), FUNDS - spent);
    }

    /// @dev Lowering always applies at once; raising never before the delay.
    function testFuzz_SetLimit_LowerNowRaiseLater(uint64 first, uint64 second, uint32 wait) public {
        first = uint64(bound(first, 0, type(uint64).max - 1));
        setLimit(first);
        setLimit(second);
        vm.warp(block.timestamp + wait);
        (uint256 limit,,,) = limitState();
        if (second <= first || wait >= LIMIT_RAISE_DELAY) assertEq(limit, second);
        else assertEq(limit, first);
    }
}
