// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {StableTokenProxy} from "../../contracts/proxy/StableTokenProxy.sol";
import {OrioleEscrow} from "../../contracts/escrow/OrioleEscrow.sol";

/// @dev Drives random escrow steps by random callers (right and wrong ones) over two tokens,
/// with pauses, freezes, time passing and tokens sent to the escrow directly; keeps ghost totals.
contract EscrowHandler is Test {
    OrioleEscrow internal immutable escrow;
    StableToken[2] internal tokens;
    address internal immutable minter;
    address internal immutable pauser;
    address internal immutable compliance;
    address[6] internal actors; // 0-2 buyers, 3-4 merchants, 5 the arbiter
    address internal immutable stranger = makeAddr("stranger");

    bytes32[] public ids;
    mapping(bytes32 id => uint256) public fundedAmount;
    mapping(bytes32 id => uint256) public paidOut;
    mapping(bytes32 id => bool) public closed;
    mapping(address token => uint256) public donated;
    /// A step that succeeded on an escrow already closed (must stay 0).
    uint256 public settledTwice;
    /// A step that failed but moved tokens, or a funding that moved another amount (must stay 0).
    uint256 public failedButMoved;
    uint256 internal orders;
    /// Steps that succeeded, and escrows closed (to see the runs do real work).
    uint256 public succeeded;
    uint256 public closings;

    constructor(
        OrioleEscrow escrow_,
        StableToken[2] memory tokens_,
        address[6] memory actors_,
        address minter_,
        address pauser_,
        address compliance_
    ) {
        escrow = escrow_;
        tokens = tokens_;
        actors = actors_;
        minter = minter_;
        pauser = pauser_;
        compliance = compliance_;
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function tokenAt(uint256 i) external view returns (StableToken) {
        return tokens[i];
    }

    // ------------------------------------------------------------ actions

    function fund(uint256 seed, uint256 amount) external {
        address buyer = actors[seed % 3];
        address merchant = actors[3 + (seed / 3) % 2];
        StableToken t = tokens[(seed / 6) % 2];
        amount = bound(amount, 1, 1_000e6);
        if (t.paused() || t.isFrozen(buyer)) return;
        vm.prank(minter);
        t.mint(buyer, amount);
        vm.prank(buyer);
        t.approve(address(escrow), amount);
        OrioleEscrow.Terms memory terms = OrioleEscrow.Terms({
            token: address(t),
            merchant: merchant,
            amount: amount,
            orderId: bytes32(++orders),
            releaseTimeout: 3 days,
            disputeWindow: 1 days
        });
        uint256 before = t.balanceOf(address(escrow));
        vm.prank(buyer);
        try escrow.fund(terms) returns (bytes32 id) {
            ids.push(id);
            fundedAmount[id] = amount;
            if (t.balanceOf(address(escrow)) != before + amount) ++failedButMoved;
        } catch {
            if (t.balanceOf(address(escrow)) != before) ++failedButMoved;
        }
    }

    function ship(uint256 idSeed, uint256 callerSeed) external {
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.markShipped, (_id(idSeed))));
    }

    function release(uint256 idSeed, uint256 callerSeed) external {
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.release, (_id(idSeed))));
    }

    function releaseAfterTimeout(uint256 idSeed, uint256 callerSeed) external {
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.releaseAfterTimeout, (_id(idSeed))));
    }

    function refund(uint256 idSeed, uint256 callerSeed, uint256 amount) external {
        bytes32 id = _id(idSeed);
        amount = bound(amount, 0, uint256(escrow.getEscrow(id).amount) + 1);
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.refund, (id, amount)));
    }

    function openDispute(uint256 idSeed, uint256 callerSeed) external {
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.openDispute, (_id(idSeed))));
    }

    function resolve(uint256 idSeed, uint256 callerSeed, uint256 bps) external {
        bps = bound(bps, 0, 10_001);
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.resolveDispute, (_id(idSeed), bps)));
    }

    function offer(uint256 idSeed, uint256 callerSeed, uint256 buyerPart) external {
        bytes32 id = _id(idSeed);
        uint256 held = escrow.getEscrow(id).amount;
        buyerPart = bound(buyerPart, 0, held);
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.offerSettlement, (id, buyerPart, held - buyerPart)));
    }

    function accept(uint256 idSeed, uint256 callerSeed) external {
        bytes32 id = _id(idSeed);
        OrioleEscrow.Offer memory o = escrow.getOffer(id);
        _step(idSeed, callerSeed, abi.encodeCall(OrioleEscrow.acceptSettlement, (id, o.buyerAmount, o.merchantAmount)));
    }

    function togglePause(uint256 tokenSeed) external {
        // pauses are short: most calls unpause
        StableToken t = tokens[tokenSeed % 2];
        vm.prank(pauser);
        if (t.paused()) t.unpause();
        else if (tokenSeed % 8 < 2) t.pause();
    }

    function toggleFreeze(uint256 tokenSeed, uint256 actorSeed) external {
        StableToken t = tokens[tokenSeed % 2];
        address who = actorSeed % 7 == 6 ? address(escrow) : actors[actorSeed % 6];
        vm.prank(compliance);
        if (t.isFrozen(who)) t.unfreeze(who);
        else if (tokenSeed % 8 < 2) t.freeze(who);
    }

    function donate(uint256 tokenSeed, uint256 amount) external {
        StableToken t = tokens[tokenSeed % 2];
        amount = bound(amount, 1, 1e6);
        if (t.paused() || t.isFrozen(address(escrow))) return;
        vm.prank(minter);
        t.mint(address(escrow), amount);
        donated[address(t)] += amount;
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 4 days));
    }

    // ------------------------------------------------------------ internals

    function _id(uint256 seed) internal view returns (bytes32) {
        if (ids.length == 0) return keccak256("none");
        return ids[seed % ids.length];
    }

    /// @dev Half the time one of the escrow's own parties (or the arbiter), half the time anyone.
    function _caller(uint256 seed, bytes32 id) internal view returns (address) {
        if (seed % 2 == 0) {
            uint256 p = (seed / 2) % 3;
            OrioleEscrow.Escrow memory e = escrow.getEscrow(id);
            return p == 0 ? e.buyer : p == 1 ? e.merchant : actors[5];
        }
        uint256 k = (seed / 2) % 7;
        return k == 6 ? stranger : actors[k];
    }

    function _step(uint256 idSeed, uint256 callerSeed, bytes memory data) internal {
        if (ids.length == 0) return;
        bytes32 id = _id(idSeed);
        StableToken t = StableToken(escrow.getEscrow(id).token);
        bool wasClosed = closed[id];
        uint256 before = t.balanceOf(address(escrow));
        vm.prank(_caller(callerSeed, id));
        (bool ok,) = address(escrow).call(data);
        uint256 afterBalance = t.balanceOf(address(escrow));
        if (!ok) {
            if (afterBalance != before) ++failedButMoved;
            return;
        }
        if (wasClosed) ++settledTwice;
        ++succeeded;
        paidOut[id] += before - afterBalance;
        OrioleEscrow.Status s = escrow.getEscrow(id).status;
        if (uint8(s) >= uint8(OrioleEscrow.Status.Released)) {
            closed[id] = true;
            ++closings;
        }
    }
}

contract EscrowInvariantsTest is StdInvariant, Test {
    EscrowHandler internal handler;
    OrioleEscrow internal escrow;
    StableToken[2] internal tokens;

    function setUp() public {
        address admin = makeAddr("admin");
        address minter = makeAddr("minter");
        address pauser = makeAddr("pauser");
        address compliance = makeAddr("compliance");
        StableToken impl = new StableToken();
        string[2] memory codes = ["USD", "EUR"];
        address[] memory list = new address[](2);
        for (uint256 i = 0; i < 2; ++i) {
            StableToken.InitialRoles memory roles = StableToken.InitialRoles({
                admin: admin,
                masterMinter: admin,
                pauser: pauser,
                complianceOfficer: compliance,
                rescuer: admin,
                feeCollector: admin,
                minter: minter,
                minterAllowance: type(uint248).max
            });
            bytes memory init = abi.encodeCall(StableToken.initialize, (string.concat("Oriole ", codes[i]), codes[i], codes[i], roles));
            tokens[i] = StableToken(address(new StableTokenProxy(address(impl), init)));
            list[i] = address(tokens[i]);
        }
        address arbiter = makeAddr("arbiter");
        address[] memory arbiters = new address[](1);
        arbiters[0] = arbiter;
        escrow = new OrioleEscrow(admin, arbiters, list);
        address[6] memory actors =
            [makeAddr("buyer0"), makeAddr("buyer1"), makeAddr("buyer2"), makeAddr("merchant0"), makeAddr("merchant1"), arbiter];
        handler = new EscrowHandler(escrow, tokens, actors, minter, pauser, compliance);

        bytes4[] memory selectors = new bytes4[](14);
        selectors[0] = EscrowHandler.fund.selector;
        selectors[1] = EscrowHandler.fund.selector; // funding twice as often keeps escrows open
        selectors[2] = EscrowHandler.ship.selector;
        selectors[3] = EscrowHandler.release.selector;
        selectors[4] = EscrowHandler.releaseAfterTimeout.selector;
        selectors[5] = EscrowHandler.refund.selector;
        selectors[6] = EscrowHandler.openDispute.selector;
        selectors[7] = EscrowHandler.resolve.selector;
        selectors[8] = EscrowHandler.offer.selector;
        selectors[9] = EscrowHandler.accept.selector;
        selectors[10] = EscrowHandler.togglePause.selector;
        selectors[11] = EscrowHandler.toggleFreeze.selector;
        selectors[12] = EscrowHandler.warp.selector;
        selectors[13] = EscrowHandler.donate.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @dev Per token, the escrow holds at least what its open escrows hold (exactly that plus donations).
    function invariant_balanceCoversOpenEscrows() public view {
        uint256[2] memory open;
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) {
            OrioleEscrow.Escrow memory e = escrow.getEscrow(handler.ids(i));
            for (uint256 k = 0; k < 2; ++k) {
                if (e.token == address(tokens[k])) open[k] += e.amount;
            }
        }
        for (uint256 k = 0; k < 2; ++k) {
            uint256 balance = tokens[k].balanceOf(address(escrow));
            assertGe(balance, open[k], "escrow balance below the sum of open escrows");
            assertEq(balance, open[k] + handler.donated(address(tokens[k])), "tokens appeared or vanished");
        }
    }

    /// @dev Each escrow pays out exactly what it was funded with, once: paid + held == funded.
    function invariant_eachEscrowAccountsExactly() public view {
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 id = handler.ids(i);
            OrioleEscrow.Escrow memory e = escrow.getEscrow(id);
            assertEq(handler.paidOut(id) + e.amount, handler.fundedAmount(id), "paid + held != funded");
            bool final_ = uint8(e.status) >= uint8(OrioleEscrow.Status.Released);
            if (final_) assertEq(e.amount, 0, "a closed escrow holds funds");
            if (handler.closed(id)) assertTrue(final_, "a closed escrow reopened");
            if (!final_) assertGt(e.amount, 0, "an open escrow holds nothing");
        }
    }

    function invariant_nothingSettlesTwice() public view {
        assertEq(handler.settledTwice(), 0, "a step succeeded on a closed escrow");
        assertEq(handler.failedButMoved(), 0, "a failed step moved tokens");
    }
}
