// SPDX-License-Identifier: MIT
// One file for the whole audit (the four fixtures cannot share one contract: they declare the same accounts).
// solhint-disable one-contract-per-file
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Account as OZAccount} from "@openzeppelin/contracts/account/Account.sol";
import {Execution} from "@openzeppelin/contracts/interfaces/draft-IERC7579.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StableTokenTestBase} from "./StableTokenTestBase.sol";
import {EscrowTestBase} from "./EscrowTestBase.sol";
import {OfflineVaultTestBase} from "./OfflineVaultTestBase.sol";
import {PasskeyFixture} from "./PasskeyTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {TokenRoles} from "../../contracts/token/TokenRoles.sol";
import {Payments} from "../../contracts/token/Payments.sol";
import {Permit} from "../../contracts/token/Permit.sol";
import {TypedSignatures} from "../../contracts/token/TypedSignatures.sol";
import {TransferAuthorizations} from "../../contracts/token/TransferAuthorizations.sol";
import {OrioleEscrow} from "../../contracts/escrow/OrioleEscrow.sol";
import {OfflineVault} from "../../contracts/offline/OfflineVault.sol";
import {PasskeyAccount} from "../../contracts/account/PasskeyAccount.sol";
import {PaymentRelay} from "../../contracts/account/PaymentRelay.sol";
import {StableTokenV2Mock} from "../../contracts/mocks/StableTokenV2Mock.sol";

/**
 * @dev Audit of the two project rules "every privileged function refuses the wrong caller" and
 * "every signature has a replay, an expiry and a cross-domain test": the cases the other test
 * files did not cover (or covered without the exact error arguments or the unchanged state).
 */

// ====================================================================== StableToken

/// @dev StableToken: every role-gated function against every other account, and the signature paths' gaps.
contract AuditStableTokenTest is StableTokenTestBase {
    bytes32 internal constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    bytes32 internal constant NONCE = keccak256("audit-nonce");
    bytes32 internal constant REF = keccak256("audit-invoice");

    uint256 internal constant FN_COUNT = 12;

    /// @dev The role each privileged function (index `fn`) needs.
    function roleOf(uint256 fn) internal pure returns (TokenRoles.Role) {
        if (fn < 5) return TokenRoles.Role.Admin; // transferAdmin, cancelAdminTransfer, setRoleAccount, setMerchantFee, upgrade
        if (fn < 7) return TokenRoles.Role.MasterMinter; // configureMinter, removeMinter
        if (fn < 9) return TokenRoles.Role.Pauser; // pause, unpause
        if (fn < 11) return TokenRoles.Role.ComplianceOfficer; // freeze, unfreeze
        return TokenRoles.Role.Rescuer; // rescueERC20
    }

    /// @dev Calls privileged function `fn` (the next call after an expectRevert).
    function callPrivileged(uint256 fn, address newImpl) internal {
        if (fn == 0) token.transferAdmin(bob);
        else if (fn == 1) token.cancelAdminTransfer();
        else if (fn == 2) token.setRoleAccount(TokenRoles.Role.Pauser, bob);
        else if (fn == 3) token.setMerchantFee(merchant, 1000);
        else if (fn == 4) token.upgradeToAndCall(newImpl, "");
        else if (fn == 5) token.configureMinter(bob, 1e30);
        else if (fn == 6) token.removeMinter(minter);
        else if (fn == 7) token.pause();
        else if (fn == 8) token.unpause();
        else if (fn == 9) token.freeze(bob);
        else if (fn == 10) token.unfreeze(alice);
        else token.rescueERC20(token, bob, 5e6);
    }

    struct Snapshot {
        address admin;
        bool bobMinter;
        bool minterActive;
        bool bobFrozen;
        bool aliceFrozen;
        address pending;
        address pauser;
        uint256 fee;
        bytes32 impl;
        uint256 minterLeft;
        uint256 stuck;
        uint256 bobBalance;
    }

    function snapshot() internal view returns (Snapshot memory s) {
        s.admin = token.admin();
        s.pending = token.pendingAdmin();
        s.pauser = token.pauser();
        s.fee = token.merchantFee(merchant);
        s.impl = vm.load(address(token), IMPLEMENTATION_SLOT); // includes the pause bit
        s.bobMinter = token.isMinter(bob);
        s.minterActive = token.isMinter(minter);
        s.minterLeft = token.minterAllowance(minter);
        s.bobFrozen = token.isFrozen(bob);
        s.aliceFrozen = token.isFrozen(alice);
        s.stuck = token.balanceOf(address(token));
        s.bobBalance = token.balanceOf(bob);
    }

    function assertUnchanged(Snapshot memory a, Snapshot memory b) internal pure {
        assertEq(a.admin, b.admin, "admin");
        assertEq(a.pending, b.pending, "pendingAdmin");
        assertEq(a.pauser, b.pauser, "pauser");
        assertEq(a.fee, b.fee, "merchant fee");
        assertEq(a.impl, b.impl, "implementation slot / pause flag");
        assertEq(a.bobMinter, b.bobMinter, "minter configured");
        assertEq(a.minterActive, b.minterActive, "minter removed");
        assertEq(a.minterLeft, b.minterLeft, "minter allowance");
        assertEq(a.bobFrozen, b.bobFrozen, "frozen");
        assertEq(a.aliceFrozen, b.aliceFrozen, "unfrozen");
        assertEq(a.stuck, b.stuck, "rescued");
        assertEq(a.bobBalance, b.bobBalance, "rescue recipient");
    }

    /// @dev Every role-gated function refuses every other role holder, a minter, a user and the pending
    /// admin with StableTokenUnauthorized(caller, role), and changes nothing.
    function test_everyPrivilegedFunction_refusesEveryOtherCaller_andChangesNothing() public {
        address nextAdmin = makeAddr("nextAdmin");
        vm.prank(admin);
        token.transferAdmin(nextAdmin); // a pending admin exists: it holds no power yet
        vm.prank(compliance);
        token.freeze(alice); // so that unfreeze would change something
        vm.prank(bob);
        token.transfer(address(token), 10e6); // tokens to rescue
        address v2 = address(new StableTokenV2Mock());

        address[9] memory callers =
            [admin, masterMinter, pauserAcct, compliance, rescuerAcct, collector, minter, bob, nextAdmin];
        for (uint256 fn = 0; fn < FN_COUNT; ++fn) {
            bool paused = fn == 8;
            if (paused) {
                vm.prank(pauserAcct);
                token.pause();
            }
            TokenRoles.Role role = roleOf(fn);
            address holder = token.roleAccount(role);
            Snapshot memory before = snapshot();
            for (uint256 c = 0; c < callers.length; ++c) {
                address caller = callers[c];
                if (caller == holder) continue;
                vm.expectRevert(abi.encodeWithSelector(TokenRoles.StableTokenUnauthorized.selector, caller, role));
                vm.prank(caller);
                callPrivileged(fn, v2);
            }
            assertUnchanged(before, snapshot());
            if (paused) {
                vm.prank(pauserAcct);
                token.unpause();
            }
        }
    }

    // ------------------------------------------------------------ ERC-3009 receiveWithAuthorization

    function rwaDigest(StableToken t, uint256 validAfter, uint256 validBefore) internal view returns (bytes32) {
        return authDigest(t, RWA_TYPEHASH, alice, bob, 3e6, validAfter, validBefore, NONCE);
    }

    function test_receiveWithAuthorization_replayRefused_bothForms() public {
        uint256 validBefore = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, rwaDigest(token, 0, validBefore));
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        bytes memory used =
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationUsed.selector, alice, NONCE);
        vm.expectRevert(used);
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        vm.expectRevert(used);
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, abi.encodePacked(r, s, v));
        assertEq(token.balanceOf(bob), FUNDS + 3e6, "paid once");
        assertEq(token.balanceOf(alice), FUNDS - 3e6);
    }

    function test_receiveWithAuthorization_expiredAndNotYetValid() public {
        uint256 validBefore = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, rwaDigest(token, 0, validBefore));
        uint256 t0 = block.timestamp;
        vm.warp(validBefore);
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationExpired.selector, validBefore, validBefore
            )
        );
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        vm.warp(t0);

        uint256 validAfter = block.timestamp + 10;
        bytes memory sig = signBytes(aliceKey, rwaDigest(token, validAfter, validBefore));
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationNotYetValid.selector, validAfter, block.timestamp
            )
        );
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, validAfter, validBefore, NONCE, sig);
        assertFalse(token.authorizationState(alice, NONCE), "nonce not burnt");
        assertEq(token.balanceOf(bob), FUNDS);
    }

    function test_receiveWithAuthorization_otherChainAndOtherToken() public {
        uint256 validBefore = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, rwaDigest(token, 0, validBefore));
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        address recovered = ecrecover(rwaDigest(token, 0, validBefore), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        vm.chainId(chainId);

        StableToken other = deployToken("Oriole Euro", "oEUR", "EUR");
        vm.prank(minter);
        other.mint(alice, FUNDS);
        recovered = ecrecover(rwaDigest(other, 0, validBefore), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        vm.prank(bob);
        other.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        assertFalse(other.authorizationState(alice, NONCE));
        assertEq(other.balanceOf(bob), 0);
        // the signature still works where it was meant for
        vm.prank(bob);
        token.receiveWithAuthorization(alice, bob, 3e6, 0, validBefore, NONCE, v, r, s);
        assertEq(token.balanceOf(bob), FUNDS + 3e6);
    }

    // ------------------------------------------------------------ ERC-3009 cancelAuthorization

    function test_cancelAuthorization_otherChainAndOtherToken() public {
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, cancelDigest(token, alice, NONCE));
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        address recovered = ecrecover(cancelDigest(token, alice, NONCE), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        token.cancelAuthorization(alice, NONCE, v, r, s);
        vm.chainId(chainId);
        assertFalse(token.authorizationState(alice, NONCE));

        StableToken other = deployToken("Oriole Euro", "oEUR", "EUR");
        recovered = ecrecover(cancelDigest(other, alice, NONCE), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        other.cancelAuthorization(alice, NONCE, abi.encodePacked(r, s, v));
        assertFalse(other.authorizationState(alice, NONCE));
    }

    // ------------------------------------------------------------ EIP-2612 permit / payWithPermit

    function test_permit_bytesForm_replayRefusedWithExactSigner() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, relayer, 9e6, 0, deadline));
        token.permit(alice, relayer, 9e6, deadline, abi.encodePacked(r, s, v));
        vm.prank(relayer);
        token.transferFrom(alice, relayer, 9e6);
        // nonce 1 now: the same signature recovers to another address
        address recovered = ecrecover(permitDigest(token, alice, relayer, 9e6, 1, deadline), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        token.permit(alice, relayer, 9e6, deadline, abi.encodePacked(r, s, v));
        assertEq(token.allowance(alice, relayer), 0, "replay gave an allowance");
        assertEq(token.nonces(alice), 1);
    }

    function test_payWithPermit_replayExpiryAndOtherChain() public {
        uint256 deadline = block.timestamp + 600;
        (uint8 v, bytes32 r, bytes32 s) = sign(aliceKey, permitDigest(token, alice, merchant, 5e6, 0, deadline));

        // another chain id
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        address recovered = ecrecover(permitDigest(token, alice, merchant, 5e6, 0, deadline), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        vm.prank(merchant);
        token.payWithPermit(alice, merchant, 5e6, REF, deadline, v, r, s);
        vm.chainId(chainId);

        // past the deadline
        uint256 t0 = block.timestamp;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(Permit.ERC2612ExpiredSignature.selector, deadline));
        vm.prank(merchant);
        token.payWithPermit(alice, merchant, 5e6, REF, deadline, v, r, s);
        vm.warp(t0);
        assertEq(token.nonces(alice), 0);

        // once, then the replay
        vm.prank(merchant);
        token.payWithPermit(alice, merchant, 5e6, REF, deadline, v, r, s);
        recovered = ecrecover(permitDigest(token, alice, merchant, 5e6, 1, deadline), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        vm.prank(merchant);
        token.payWithPermit(alice, merchant, 5e6, REF, deadline, v, r, s);
        assertEq(token.balanceOf(merchant), 1 + 5e6, "paid once");
    }

    // ------------------------------------------------------------ batch settlement

    function test_settlePayments_otherChainOrTokenIsInvalidSignature_nonceKept() public {
        Payments.PaymentAuthorization[] memory list = new Payments.PaymentAuthorization[](1);
        list[0] = signedPay(aliceKey, alice, merchant, 1e6, REF, 77);

        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                Payments.StableTokenSettlementFailed.selector, 0, Payments.SettlementFailure.InvalidSignature
            )
        );
        token.settlePayments(list, true);
        vm.expectEmit(address(token));
        emit Payments.PaymentFailed(0, REF, alice, merchant, 77, Payments.SettlementFailure.InvalidSignature);
        assertEq(token.settlePayments(list, false), 0);
        vm.chainId(chainId);

        StableToken other = deployToken("Oriole Euro", "oEUR", "EUR");
        vm.prank(minter);
        other.mint(alice, FUNDS);
        vm.expectRevert(
            abi.encodeWithSelector(
                Payments.StableTokenSettlementFailed.selector, 0, Payments.SettlementFailure.InvalidSignature
            )
        );
        other.settlePayments(list, true);
        assertFalse(other.isPaymentNonceUsed(alice, 77));
        assertFalse(token.isPaymentNonceUsed(alice, 77));
        assertEq(token.balanceOf(merchant), 1);
        // where it belongs it settles once
        assertEq(token.settlePayments(list, true), 1);
        assertEq(token.balanceOf(merchant), 1 + 1e6);
    }
}

// ====================================================================== OrioleEscrow

/// @dev OrioleEscrow: AccessControl administration by the wrong caller, and the funding authorization's gaps.
contract AuditEscrowTest is EscrowTestBase {
    function test_grantRevokeRole_refusedToNonAdmins_andNothingChanges() public {
        bytes32 arbiterRole = escrow.ARBITER_ROLE();
        bytes32 adminRole = escrow.DEFAULT_ADMIN_ROLE();
        address[4] memory wrong = [arbiter, alice, shop, stranger];
        for (uint256 i = 0; i < wrong.length; ++i) {
            address c = wrong[i];
            vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, c, adminRole));
            vm.prank(c);
            escrow.grantRole(arbiterRole, c);
            vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, c, adminRole));
            vm.prank(c);
            escrow.grantRole(adminRole, c);
            vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, c, adminRole));
            vm.prank(c);
            escrow.revokeRole(arbiterRole, arbiter);
            vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, c, adminRole));
            vm.prank(c);
            escrow.revokeRole(adminRole, admin);
            assertFalse(escrow.hasRole(arbiterRole, c) && c != arbiter, "granted itself the arbiter role");
            assertFalse(escrow.hasRole(adminRole, c), "granted itself the admin role");
        }
        assertTrue(escrow.hasRole(arbiterRole, arbiter), "arbiter still an arbiter");
        assertTrue(escrow.hasRole(adminRole, admin), "admin still the admin");
    }

    function test_renounceRole_onlyForOneself() public {
        bytes32 arbiterRole = escrow.ARBITER_ROLE();
        bytes32 adminRole = escrow.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(IAccessControl.AccessControlBadConfirmation.selector);
        vm.prank(stranger);
        escrow.renounceRole(arbiterRole, arbiter);
        vm.expectRevert(IAccessControl.AccessControlBadConfirmation.selector);
        vm.prank(arbiter);
        escrow.renounceRole(adminRole, admin);
        assertTrue(escrow.hasRole(arbiterRole, arbiter));
        assertTrue(escrow.hasRole(adminRole, admin));
        // for oneself it works
        vm.prank(arbiter);
        escrow.renounceRole(arbiterRole, arbiter);
        assertFalse(escrow.hasRole(arbiterRole, arbiter));
    }

    function test_fundWithAuthorization_notYetValid() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        uint256 validAfter = block.timestamp + 60;
        uint256 validBefore = block.timestamp + 1 hours;
        bytes memory sig = signBytes(
            aliceKey,
            authDigest(token, RWA_TYPEHASH, alice, address(escrow), AMOUNT, validAfter, validBefore, fundingNonceOf(alice, t))
        );
        bytes32 id = escrow.escrowId(alice, shop, address(token), ORDER);
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationNotYetValid.selector, validAfter, block.timestamp
            )
        );
        vm.prank(relayer);
        escrow.fundWithAuthorization(t, alice, validAfter, validBefore, sig);
        assertEq(uint8(statusOf(id)), uint8(OrioleEscrow.Status.None), "no escrow opened");
        assertFalse(token.authorizationState(alice, fundingNonceOf(alice, t)));
        vm.warp(validAfter + 1);
        vm.prank(relayer);
        escrow.fundWithAuthorization(t, alice, validAfter, validBefore, sig);
        assertEq(held(id), AMOUNT);
    }

    /// @dev Whom `sig` (r ‖ s ‖ v) recovers to over `digest`: the signer the token reports.
    function signerOf(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    function rwaToEscrow(StableToken t, address to, OrioleEscrow.Terms memory te, uint256 validBefore)
        internal
        view
        returns (bytes32)
    {
        return authDigest(t, RWA_TYPEHASH, alice, to, te.amount, 0, validBefore, fundingNonceOf(alice, te));
    }

    function expectInvalidSigner(address recovered) internal {
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
    }

    function test_fundWithAuthorization_otherEscrowOtherChainOtherToken() public {
        OrioleEscrow.Terms memory t = terms(token, shop, AMOUNT, ORDER);
        uint256 validBefore = block.timestamp + 1 hours;
        bytes memory sig = signBytes(aliceKey, rwaToEscrow(token, address(escrow), t, validBefore));

        // another escrow contract (same tokens allowed): the authorization names this escrow as payee
        address[] memory tokens = new address[](2);
        (tokens[0], tokens[1]) = (address(token), address(eur));
        OrioleEscrow escrow2 = new OrioleEscrow(admin, new address[](0), tokens);
        expectInvalidSigner(signerOf(rwaToEscrow(token, address(escrow2), t, validBefore), sig));
        vm.prank(relayer);
        escrow2.fundWithAuthorization(t, alice, 0, validBefore, sig);

        // another chain id
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        expectInvalidSigner(signerOf(rwaToEscrow(token, address(escrow), t, validBefore), sig));
        vm.prank(relayer);
        escrow.fundWithAuthorization(t, alice, 0, validBefore, sig);
        vm.chainId(chainId);

        // the same terms in another currency: other token domain and other nonce
        OrioleEscrow.Terms memory te = terms(eur, shop, AMOUNT, ORDER);
        expectInvalidSigner(signerOf(rwaToEscrow(eur, address(escrow), te, validBefore), sig));
        vm.prank(relayer);
        escrow.fundWithAuthorization(te, alice, 0, validBefore, sig);

        assertEq(uint8(statusOf(escrow.escrowId(alice, shop, address(token), ORDER))), uint8(OrioleEscrow.Status.None));
        assertEq(uint8(statusOf(escrow.escrowId(alice, shop, address(eur), ORDER))), uint8(OrioleEscrow.Status.None));
        assertEq(token.balanceOf(alice), FUNDS);
        assertEq(eur.balanceOf(alice), FUNDS);
        // where it belongs it funds
        vm.prank(relayer);
        bytes32 id = escrow.fundWithAuthorization(t, alice, 0, validBefore, sig);
        assertEq(held(id), AMOUNT);
    }
}

// ====================================================================== PasskeyAccount, PaymentRelay

/// @dev PasskeyAccount: ERC-7821 execute by the wrong caller, cross-chain and cross-account replays.
contract AuditPasskeyTest is PasskeyFixture {
    bytes32 internal constant BATCH_MODE = bytes32(uint256(0x01) << 248); // CALLTYPE_BATCH, EXECTYPE_DEFAULT

    function drainBatch() internal view returns (bytes memory) {
        Execution[] memory calls = new Execution[](1);
        calls[0] = Execution({target: address(token), value: 0, callData: abi.encodeCall(IERC20.transfer, (bob, FUNDS))});
        return abi.encode(calls);
    }

    function test_execute_refusedToAnyoneButEntryPointAndSelf() public {
        bytes memory data = drainBatch();
        address[4] memory wrong = [bob, relayer, address(factory), address(paymentRelay)];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(OZAccount.AccountUnauthorized.selector, wrong[i]));
            vm.prank(wrong[i]);
            account.execute(BATCH_MODE, data);
        }
        assertEq(token.balanceOf(address(account)), FUNDS, "nothing moved");
        // the batch itself is valid: the EntryPoint may run it
        vm.prank(address(account.entryPoint()));
        account.execute(BATCH_MODE, data);
        assertEq(token.balanceOf(bob), 2 * FUNDS);
    }

    function test_executePayment_otherChainRefused() public {
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 11, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        bytes32 keyId = account.keyIdOf(phoneQx, phoneQy);
        bytes32 there = intentDigest(address(account), i);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidSignature.selector, keyId, there));
        relay(i, 0, sig);
        vm.chainId(chainId);
        assertFalse(account.isNonceUsed(11));
        assertEq(token.balanceOf(merchant), 1);
        relay(i, 0, sig);
        assertEq(token.balanceOf(merchant), 1 + 1e6);
    }

    function test_executeWithSig_otherAccountAndOtherChainRefused() public {
        PasskeyAccount other = newClone(phoneKey); // shares the phone's key
        bytes memory data = abi.encodeCall(PasskeyAccount.addDevice, (laptopQx, laptopQy));
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = assertion(phoneKey, accountCallDigest(address(account), data, 5, deadline), FLAGS_UP_UV);
        bytes32 keyId = account.keyIdOf(phoneQx, phoneQy);

        bytes32 onOther = accountCallDigest(address(other), data, 5, deadline);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidSignature.selector, keyId, onOther));
        other.executeWithSig(data, 5, deadline, sig);
        assertFalse(other.isDevice(laptopQx, laptopQy));

        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        bytes32 there = accountCallDigest(address(account), data, 5, deadline);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidSignature.selector, keyId, there));
        account.executeWithSig(data, 5, deadline, sig);
        vm.chainId(chainId);
        assertFalse(account.isDevice(laptopQx, laptopQy));
        assertFalse(account.isNonceUsed(5));
        account.executeWithSig(data, 5, deadline, sig);
        assertTrue(account.isDevice(laptopQx, laptopQy));
    }

    function test_isValidSignature_otherChainRefused() public {
        bytes32 h = keccak256("audit hash");
        bytes memory sig = assertion(phoneKey, messageDigest(address(account), h), FLAGS_UP_UV);
        assertEq(account.isValidSignature(h, sig), MAGIC);
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        assertEq(account.isValidSignature(h, sig), bytes4(0xffffffff));
        vm.chainId(chainId);
    }

    function test_passkeySignedPermit_replayRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = permitDigest(token, address(account), relayer, 50e6, 0, deadline);
        bytes memory sig = assertion(phoneKey, messageDigest(address(account), digest), FLAGS_UP_UV);
        token.permit(address(account), relayer, 50e6, deadline, sig);
        vm.prank(relayer);
        token.transferFrom(address(account), relayer, 50e6);
        vm.expectRevert(
            abi.encodeWithSelector(TypedSignatures.StableTokenInvalidContractSignature.selector, address(account))
        );
        token.permit(address(account), relayer, 50e6, deadline, sig);
        assertEq(token.allowance(address(account), relayer), 0);
        assertEq(token.nonces(address(account)), 1);
    }

    // ------------------------------------------------------------ guardian recovery approvals

    function guardAlice(PasskeyAccount acct, uint256 nonce) internal {
        address[] memory gs = new address[](1);
        gs[0] = alice;
        callWithSig(acct, phoneKey, abi.encodeCall(PasskeyAccount.setGuardians, (gs, 1)), nonce);
    }

    function test_recoveryApproval_otherAccountAndOtherChainRefused() public {
        PasskeyAccount other = newClone(phoneKey); // same device key and the same guardian
        guardAlice(account, 1);
        guardAlice(other, 1);
        (bytes32 qx, bytes32 qy) = pubKey(strangerKey);
        uint256 deadline = block.timestamp + 1 days;
        address[] memory gs = new address[](1);
        gs[0] = alice;
        bytes[] memory sigs = new bytes[](1);
        sigs[0] = signBytes(aliceKey, recoveryDigest(address(account), qx, qy, 0, deadline));

        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardianSignature.selector, alice));
        other.startRecovery(qx, qy, deadline, gs, sigs);
        (,, uint256 readyAt) = other.pendingRecovery();
        assertEq(readyAt, 0);

        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        vm.expectRevert(abi.encodeWithSelector(PasskeyAccount.PasskeyAccountInvalidGuardianSignature.selector, alice));
        account.startRecovery(qx, qy, deadline, gs, sigs);
        vm.chainId(chainId);
        (,, readyAt) = account.pendingRecovery();
        assertEq(readyAt, 0);

        account.startRecovery(qx, qy, deadline, gs, sigs);
        (,, readyAt) = account.pendingRecovery();
        assertEq(readyAt, block.timestamp + RECOVERY_DELAY);
    }

    // ------------------------------------------------------------ PaymentRelay

    function test_relay_expiredAndOtherAccountIntentsReported() public {
        PasskeyAccount other = newClone(phoneKey);
        mintTo(address(other), FUNDS);
        PasskeyAccount.PaymentIntent memory i = intentFor(merchant, 1e6, REF, 1, 0);
        bytes memory sig = signIntent(phoneKey, address(account), i);
        PaymentRelay.RelayedPayment[] memory ps = new PaymentRelay.RelayedPayment[](1);

        // signed for `account`, presented for `other` (same device key)
        ps[0] = PaymentRelay.RelayedPayment({account: address(other), intent: i, relayerFee: 0, signature: sig});
        bytes32 keyId = account.keyIdOf(phoneQx, phoneQy);
        vm.expectEmit(address(paymentRelay));
        emit PaymentRelay.RelayedPaymentFailed(
            0,
            address(other),
            1,
            abi.encodeWithSelector(
                PasskeyAccount.PasskeyAccountInvalidSignature.selector, keyId, intentDigest(address(other), i)
            )
        );
        assertEq(paymentRelay.relay(new PaymentRelay.Deployment[](0), ps, relayer), 1);

        // expired
        ps[0].account = address(account);
        vm.warp(i.deadline + 1);
        vm.expectEmit(address(paymentRelay));
        emit PaymentRelay.RelayedPaymentFailed(
            0,
            address(account),
            1,
            abi.encodeWithSelector(PasskeyAccount.PasskeyAccountExpired.selector, i.deadline, i.deadline + 1)
        );
        assertEq(paymentRelay.relay(new PaymentRelay.Deployment[](0), ps, relayer), 1);
        assertFalse(account.isNonceUsed(1));
        assertFalse(other.isNonceUsed(1));
        assertEq(token.balanceOf(merchant), 1);
    }
}

// ====================================================================== OfflineVault

/// @dev OfflineVault: the EOA withdrawal request across domains, and reserveWithAuthorization's window and domain.
contract AuditOfflineVaultTest is OfflineVaultTestBase {
    function withdrawalStruct(address payer, uint256 amount, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(WITHDRAWAL_TYPEHASH, payer, address(token), amount, nonce, deadline));
    }

    function test_requestWithdrawalWithSig_eoa_otherVaultAndOtherChainRefused() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = withdrawalStruct(alice, 5e6, 0, deadline);
        OfflineVault otherVault = new OfflineVault(MAX_VALIDITY, WINDOW, DELAY);

        // signed for another vault
        bytes memory elsewhere = signBytes(aliceKey, vaultDigestFor(address(otherVault), block.chainid, structHash));
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidSignature.selector, alice));
        vault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, elsewhere);

        // signed here, replayed on another chain id
        bytes memory sig = signBytes(aliceKey, vaultDigest(structHash));
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidSignature.selector, alice));
        vault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, sig);
        vm.chainId(chainId);

        // nor on the other vault
        vm.expectRevert(abi.encodeWithSelector(OfflineVault.OfflineVaultInvalidSignature.selector, alice));
        otherVault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, sig);

        assertEq(vault.withdrawalNonce(alice), 0);
        assertEq(otherVault.withdrawalNonce(alice), 0);
        (,, uint256 pending, uint256 unlockAt) = vault.reserveOf(alice, address(token));
        assertEq(pending, 0);
        assertEq(unlockAt, 0);
        vault.requestWithdrawalWithSig(alice, address(token), 5e6, deadline, sig);
        assertEq(vault.withdrawalNonce(alice), 1);
    }

    /// @dev Whom `sig` (r ‖ s ‖ v) recovers to over `digest`: the signer the token reports.
    function signerOf(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    function rwaToVault(address v, uint256 validAfter, uint256 validBefore, bytes32 nonce) internal view returns (bytes32) {
        return authDigest(token, RWA_TYPEHASH, alice, v, 30e6, validAfter, validBefore, nonce);
    }

    function test_reserveWithAuthorization_expiredNotYetValidAndOtherVault() public {
        bytes32 nonce = keccak256("rwa-audit");
        uint256 t0 = block.timestamp;
        uint256 validBefore = t0 + 1 hours;
        bytes memory sig = signBytes(aliceKey, rwaToVault(address(vault), 0, validBefore, nonce));

        vm.warp(validBefore);
        vm.expectRevert(
            abi.encodeWithSelector(
                TransferAuthorizations.StableTokenAuthorizationExpired.selector, validBefore, validBefore
            )
        );
        vault.reserveWithAuthorization(address(token), alice, 30e6, 0, validBefore, nonce, sig);
        vm.warp(t0);

        uint256 validAfter = t0 + 30;
        bytes memory early = signBytes(aliceKey, rwaToVault(address(vault), validAfter, validBefore, nonce));
        vm.expectRevert(
            abi.encodeWithSelector(TransferAuthorizations.StableTokenAuthorizationNotYetValid.selector, validAfter, t0)
        );
        vault.reserveWithAuthorization(address(token), alice, 30e6, validAfter, validBefore, nonce, early);

        // the authorization names this vault as payee: another vault cannot use it
        OfflineVault otherVault = new OfflineVault(MAX_VALIDITY, WINDOW, DELAY);
        address recovered = signerOf(rwaToVault(address(otherVault), 0, validBefore, nonce), sig);
        vm.expectRevert(abi.encodeWithSelector(TypedSignatures.StableTokenInvalidSigner.selector, recovered, alice));
        otherVault.reserveWithAuthorization(address(token), alice, 30e6, 0, validBefore, nonce, sig);

        assertEq(balanceOfReserve(alice), 0);
        (uint256 otherBalance,,,) = otherVault.reserveOf(alice, address(token));
        assertEq(otherBalance, 0);
        assertEq(token.balanceOf(alice), FUNDS);
        assertFalse(token.authorizationState(alice, nonce));
        vault.reserveWithAuthorization(address(token), alice, 30e6, 0, validBefore, nonce, sig);
        assertEq(balanceOfReserve(alice), 30e6);
    }
}
