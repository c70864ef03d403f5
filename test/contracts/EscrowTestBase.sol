// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PasskeyTestBase} from "./PasskeyTestBase.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {OrioleEscrow} from "../../contracts/escrow/OrioleEscrow.sol";

/// @dev OrioleEscrow over two StableTokens (USD, EUR): alice is the buyer, `shop` the merchant
/// (both with keys, for signed actions), `arbiter` the dispute desk, `admin` the escrow's admin.
abstract contract EscrowTestBase is PasskeyTestBase {
    OrioleEscrow internal escrow;
    StableToken internal eur;

    address internal shop;
    uint256 internal shopKey;
    address internal arbiter = makeAddr("arbiter");
    address internal stranger = makeAddr("stranger");

    uint256 internal constant AMOUNT = 100e6;
    uint32 internal constant RELEASE_TIMEOUT = 14 days;
    uint32 internal constant DISPUTE_WINDOW = 7 days;
    bytes32 internal constant ORDER = keccak256("order-1");

    bytes32 internal constant ACTION_TYPEHASH = keccak256(
        "EscrowAction(address signer,uint8 action,bytes32 escrowId,uint256 buyerAmount,uint256 merchantAmount,uint256 nonce,uint256 deadline)"
    );

    function setUp() public virtual override {
        super.setUp();
        (shop, shopKey) = makeAddrAndKey("shop");
        eur = deployToken("Oriole Euro", "oEUR", "EUR");
        address[] memory arbiters = new address[](1);
        arbiters[0] = arbiter;
        address[] memory tokens = new address[](2);
        tokens[0] = address(token);
        tokens[1] = address(eur);
        escrow = new OrioleEscrow(admin, arbiters, tokens);
        vm.prank(minter);
        eur.mint(alice, FUNDS);
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(alice);
            StableToken(tokens[i]).approve(address(escrow), type(uint256).max);
        }
        mintTo(shop, 1); // the merchant holds a balance already (steady state)
    }

    function terms(StableToken t, address merchant_, uint256 amount, bytes32 orderId)
        internal
        pure
        returns (OrioleEscrow.Terms memory)
    {
        return OrioleEscrow.Terms({
            token: address(t),
            merchant: merchant_,
            amount: amount,
            orderId: orderId,
            releaseTimeout: RELEASE_TIMEOUT,
            disputeWindow: DISPUTE_WINDOW
        });
    }

    /// @dev alice funds AMOUNT of USD for `shop`, order ORDER.
    function funded() internal returns (bytes32 id) {
        vm.prank(alice);
        id = escrow.fund(terms(token, shop, AMOUNT, ORDER));
    }

    function shipped() internal returns (bytes32 id) {
        id = funded();
        vm.prank(shop);
        escrow.markShipped(id);
    }

    function disputed() internal returns (bytes32 id) {
        id = shipped();
        vm.prank(alice);
        escrow.openDispute(id);
    }

    function statusOf(bytes32 id) internal view returns (OrioleEscrow.Status) {
        return escrow.getEscrow(id).status;
    }

    function held(bytes32 id) internal view returns (uint256) {
        return escrow.getEscrow(id).amount;
    }

    // ------------------------------------------------------------ signed actions

    function action(address signer, OrioleEscrow.Action kind, bytes32 id, uint256 buyerAmount, uint256 merchantAmount, uint256 nonce)
        internal
        view
        returns (OrioleEscrow.SignedAction memory)
    {
        return OrioleEscrow.SignedAction({
            signer: signer,
            action: kind,
            escrowId: id,
            buyerAmount: buyerAmount,
            merchantAmount: merchantAmount,
            nonce: nonce,
            deadline: block.timestamp + 1 hours
        });
    }

    /// @dev Computed without calling the escrow, so that it can run between expectRevert and the call.
    function actionDigest(OrioleEscrow.SignedAction memory a) internal view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Oriole Escrow"),
                keccak256("1"),
                block.chainid,
                address(escrow)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                ACTION_TYPEHASH, a.signer, a.action, a.escrowId, a.buyerAmount, a.merchantAmount, a.nonce, a.deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function signAction(uint256 key, OrioleEscrow.SignedAction memory a) internal view returns (bytes memory) {
        return signBytes(key, actionDigest(a));
    }

    /// @dev alice's ReceiveWithAuthorization of `t` for `terms_`, valid for an hour, signed by `key`.
    function fundingSignature(uint256 key, address buyer, OrioleEscrow.Terms memory t)
        internal
        view
        returns (bytes memory)
    {
        return signBytes(key, fundingDigest(buyer, t));
    }

    function fundingDigest(address buyer, OrioleEscrow.Terms memory t) internal view returns (bytes32) {
        return authDigest(
            StableToken(t.token),
            RWA_TYPEHASH,
            buyer,
            address(escrow),
            t.amount,
            0,
            block.timestamp + 1 hours,
            fundingNonceOf(buyer, t)
        );
    }

    function fundingNonceOf(address buyer, OrioleEscrow.Terms memory t) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(buyer, t.token, t.merchant, t.amount, t.orderId, t.releaseTimeout, t.disputeWindow)
        );
    }
}
