// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {StableTokenProxy} from "../../contracts/proxy/StableTokenProxy.sol";
import {Payments} from "../../contracts/token/Payments.sol";

/// @dev Drives random mints, burns, transfers, payments (with fees), authorizations, batches,
/// freezes and replay attempts, keeping ghost totals for the invariants.
contract StableTokenHandler is Test {
    StableToken internal immutable token;
    address internal immutable minter;
    address internal immutable compliance;
    address internal immutable admin;
    address[] internal actors;
    uint256[] internal keys;
    address[] internal holders; // every address that can hold a balance

    uint256 public minted;
    uint256 public burned;
    uint256 public replaysAccepted;
    uint256 public authorizationsUsed;

    mapping(address => bool) public frozen;
    mapping(address => uint256) public frozenBalance;

    struct UsedTwa {
        address from;
        address to;
        uint256 value;
        uint256 validBefore;
        bytes32 nonce;
        bytes signature;
    }

    UsedTwa[] internal usedTwas;
    Payments.PaymentAuthorization[] internal usedPays;
    uint256 internal counter;

    bytes32 internal constant TWA_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 internal constant PAY_TYPEHASH = keccak256(
        "PayWithAuthorization(address from,address to,uint256 value,bytes32 reference,uint256 validAfter,uint256 validBefore,uint256 nonce)"
    );

    constructor(StableToken token_, address minter_, address compliance_, address admin_, address collector) {
        token = token_;
        minter = minter_;
        compliance = compliance_;
        admin = admin_;
        for (uint256 i = 0; i < 4; ++i) {
            (address a, uint256 k) = makeAddrAndKey(string(abi.encodePacked("actor", i)));
            actors.push(a);
            keys.push(k);
            holders.push(a);
        }
        holders.push(minter_);
        holders.push(collector);
    }

    function holderCount() external view returns (uint256) {
        return holders.length;
    }

    function holderAt(uint256 i) external view returns (address) {
        return holders[i];
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function actorAt(uint256 i) external view returns (address) {
        return actors[i];
    }

    function mint(uint256 seed, uint256 amount) external {
        amount = bound(amount, 1, 1e15);
        address to = actors[seed % actors.length];
        vm.prank(minter);
        try token.mint(to, amount) {
            minted += amount;
        } catch {}
    }

    function mintToMinter(uint256 amount) external {
        amount = bound(amount, 1, 1e15);
        vm.prank(minter);
        try token.mint(minter, amount) {
            minted += amount;
        } catch {}
    }

    function burn(uint256 amount) external {
        uint256 bal = token.balanceOf(minter);
        if (bal == 0) return;
        amount = bound(amount, 1, bal);
        vm.prank(minter);
        try token.burn(amount) {
            burned += amount;
        } catch {}
    }

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = actors[fromSeed % actors.length];
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        try token.transfer(actors[toSeed % actors.length], amount) {} catch {}
    }

    function pay(uint256 fromSeed, uint256 toSeed, uint256 amount, uint16 bps) external {
        address from = actors[fromSeed % actors.length];
        address to = actors[toSeed % actors.length];
        vm.prank(admin);
        token.setMerchantFee(to, bound(bps, 0, 1000));
        amount = bound(amount, 0, token.balanceOf(from));
        vm.prank(from);
        try token.pay(to, amount, bytes32(amount)) {} catch {}
    }

    function freeze(uint256 seed) external {
        address who = actors[seed % actors.length];
        if (frozen[who]) return;
        vm.prank(compliance);
        token.freeze(who);
        frozen[who] = true;
        frozenBalance[who] = token.balanceOf(who);
    }

    function unfreeze(uint256 seed) external {
        address who = actors[seed % actors.length];
        if (!frozen[who]) return;
        vm.prank(compliance);
        token.unfreeze(who);
        frozen[who] = false;
    }

    function transferWithAuthorization(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        uint256 i = fromSeed % actors.length;
        UsedTwa memory a;
        a.from = actors[i];
        a.to = actors[toSeed % actors.length];
        a.value = bound(amount, 0, token.balanceOf(a.from));
        a.validBefore = block.timestamp + 1 hours;
        a.nonce = keccak256(abi.encode("twa", ++counter));
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                token.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(TWA_TYPEHASH, a.from, a.to, a.value, 0, a.validBefore, a.nonce))
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
        a.signature = abi.encodePacked(r, s, v);
        try token.transferWithAuthorization(a.from, a.to, a.value, 0, a.validBefore, a.nonce, a.signature) {
            usedTwas.push(a);
            ++authorizationsUsed;
        } catch {}
    }

    function settle(uint256 fromSeed, uint256 toSeed, uint256 amount, uint256 nonce) external {
        uint256 i = fromSeed % actors.length;
        Payments.PaymentAuthorization memory a = Payments.PaymentAuthorization({
            from: actors[i],
            to: actors[toSeed % actors.length],
            value: bound(amount, 0, token.balanceOf(actors[i])),
            ref: bytes32(nonce),
            validAfter: 0,
            validBefore: block.timestamp + 1 hours,
            nonce: bound(nonce, 0, 1023),
            signature: ""
        });
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                token.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(PAY_TYPEHASH, a.from, a.to, a.value, a.ref, 0, a.validBefore, a.nonce))
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
        a.signature = abi.encodePacked(r, s, v);
        bool usedBefore = token.isPaymentNonceUsed(a.from, a.nonce);
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](1);
        list[0] = a;
        uint256 settled = token.settlePayments(list, false);
        if (settled == 1) {
            if (usedBefore) ++replaysAccepted;
            usedPays.push(a);
            ++authorizationsUsed;
        }
    }

    /// @dev Resubmits an authorization that was already used; it must never go through.
    function replay(uint256 seed) external {
        if (usedTwas.length > 0) {
            UsedTwa memory a = usedTwas[seed % usedTwas.length];
            try token.transferWithAuthorization(a.from, a.to, a.value, 0, a.validBefore, a.nonce, a.signature) {
                ++replaysAccepted;
            } catch {}
        }
        if (usedPays.length > 0) {
            Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](1);
            list[0] = usedPays[seed % usedPays.length];
            if (token.settlePayments(list, false) != 0) ++replaysAccepted;
            try token.payWithAuthorization(list[0]) {
                ++replaysAccepted;
            } catch {}
        }
    }
}

contract StableTokenInvariantTest is StdInvariant, Test {
    StableToken internal token;
    StableTokenHandler internal handler;

    function setUp() public {
        address admin = makeAddr("admin");
        address minter = makeAddr("minter");
        address compliance = makeAddr("compliance");
        address collector = makeAddr("collector");
        StableToken impl = new StableToken();
        StableToken.InitialRoles memory roles = StableToken.InitialRoles({
            admin: admin,
            masterMinter: admin,
            pauser: admin,
            complianceOfficer: compliance,
            rescuer: admin,
            feeCollector: collector,
            minter: minter,
            minterAllowance: type(uint248).max
        });
        token = StableToken(
            address(
                new StableTokenProxy(
                    address(impl), abi.encodeCall(StableToken.initialize, ("Oriole Euro", "oEUR", "EUR", roles))
                )
            )
        );
        handler = new StableTokenHandler(token, minter, compliance, admin, collector);
        targetContract(address(handler));
    }

    function invariant_sumOfBalancesEqualsTotalSupply() public view {
        uint256 sum;
        for (uint256 i = 0; i < handler.holderCount(); ++i) {
            sum += token.balanceOf(handler.holderAt(i));
        }
        assertEq(sum, token.totalSupply());
    }

    function invariant_mintedMinusBurnedEqualsTotalSupply() public view {
        assertEq(handler.minted() - handler.burned(), token.totalSupply());
    }

    function invariant_frozenBalanceNeverChanges() public view {
        for (uint256 i = 0; i < handler.actorCount(); ++i) {
            address a = handler.actorAt(i);
            if (handler.frozen(a)) assertEq(token.balanceOf(a), handler.frozenBalance(a));
            assertEq(token.isFrozen(a), handler.frozen(a));
        }
    }

    function invariant_usedNonceNeverAcceptedAgain() public view {
        assertEq(handler.replaysAccepted(), 0);
    }
}
