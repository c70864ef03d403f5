// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {StableToken} from "../../contracts/token/StableToken.sol";
import {StableTokenProxy} from "../../contracts/proxy/StableTokenProxy.sol";
import {Payments} from "../../contracts/token/Payments.sol";
import {ERC1271WalletMock} from "../../contracts/mocks/ERC1271WalletMock.sol";

/// @dev Shared setup: a StableToken behind its proxy, one account per role, funded users, signing helpers.
abstract contract StableTokenTestBase is Test {
    StableToken internal token;
    mapping(address token => string) internal tokenName;

    address internal admin = makeAddr("admin");
    address internal masterMinter = makeAddr("masterMinter");
    address internal pauserAcct = makeAddr("pauser");
    address internal compliance = makeAddr("compliance");
    address internal rescuerAcct = makeAddr("rescuer");
    address internal collector = makeAddr("feeCollector");
    address internal minter = makeAddr("minter");
    address internal relayer = makeAddr("relayer");
    address internal merchant = makeAddr("merchant");

    address internal alice;
    uint256 internal aliceKey;
    address internal bob;
    uint256 internal bobKey;
    ERC1271WalletMock internal wallet; // owned by alice's key

    uint256 internal constant MINTER_ALLOWANCE = type(uint248).max;
    uint256 internal constant FUNDS = 1_000e6;
    // secp256k1 group order
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    bytes32 internal constant TWA_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 internal constant RWA_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 internal constant CANCEL_TYPEHASH = keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant PAY_TYPEHASH = keccak256(
        "PayWithAuthorization(address from,address to,uint256 value,bytes32 reference,uint256 validAfter,uint256 validBefore,uint256 nonce)"
    );

    function setUp() public virtual {
        (alice, aliceKey) = makeAddrAndKey("alice");
        (bob, bobKey) = makeAddrAndKey("bob");
        token = deployToken("Oriole US Dollar", "oUSD", "USD");
        wallet = new ERC1271WalletMock(alice);
        vm.label(address(wallet), "wallet");
        vm.warp(1_700_000_000);
        mintTo(alice, FUNDS);
        mintTo(bob, FUNDS);
        mintTo(address(wallet), FUNDS);
        mintTo(merchant, 1);
    }

    function roles() internal view returns (StableToken.InitialRoles memory) {
        return StableToken.InitialRoles({
            admin: admin,
            masterMinter: masterMinter,
            pauser: pauserAcct,
            complianceOfficer: compliance,
            rescuer: rescuerAcct,
            feeCollector: collector,
            minter: minter,
            minterAllowance: MINTER_ALLOWANCE
        });
    }

    function deployToken(string memory name_, string memory symbol_, string memory currency_)
        internal
        returns (StableToken)
    {
        StableToken impl = new StableToken();
        bytes memory init = abi.encodeCall(StableToken.initialize, (name_, symbol_, currency_, roles()));
        StableToken t = StableToken(address(new StableTokenProxy(address(impl), init)));
        tokenName[address(t)] = name_;
        return t;
    }

    function mintTo(address to, uint256 amount) internal {
        vm.prank(minter);
        token.mint(to, amount);
    }

    // ------------------------------------------------------------ signing

    /// @dev Computed without calling the token, so that it can run between expectRevert and the call.
    function digestFor(StableToken t, bytes32 structHash) internal view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(tokenName[address(t)])),
                keccak256("1"),
                block.chainid,
                address(t)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function sign(uint256 key, bytes32 digest) internal pure returns (uint8 v, bytes32 r, bytes32 s) {
        return vm.sign(key, digest);
    }

    function signBytes(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The same signature with s' = n - s and v flipped: valid for ecrecover, refused as malleable.
    function highS(uint8 v, bytes32 r, bytes32 s) internal pure returns (uint8, bytes32, bytes32) {
        return (v == 27 ? 28 : 27, r, bytes32(N - uint256(s)));
    }

    function permitDigest(StableToken t, address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return digestFor(t, keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline)));
    }

    function authDigest(
        StableToken t,
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce
    ) internal view returns (bytes32) {
        return digestFor(t, keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce)));
    }

    function cancelDigest(StableToken t, address authorizer, bytes32 nonce) internal view returns (bytes32) {
        return digestFor(t, keccak256(abi.encode(CANCEL_TYPEHASH, authorizer, nonce)));
    }

    function payAuth(address from, address to, uint256 value, bytes32 ref, uint256 nonce)
        internal
        view
        returns (Payments.PaymentAuthorization memory a)
    {
        a = Payments.PaymentAuthorization({
            from: from,
            to: to,
            value: value,
            ref: ref,
            validAfter: 0,
            validBefore: block.timestamp + 1 hours,
            nonce: nonce,
            signature: ""
        });
    }

    function payDigest(StableToken t, Payments.PaymentAuthorization memory a) internal view returns (bytes32) {
        return digestFor(
            t,
            keccak256(abi.encode(PAY_TYPEHASH, a.from, a.to, a.value, a.ref, a.validAfter, a.validBefore, a.nonce))
        );
    }

    function signedPay(uint256 key, address from, address to, uint256 value, bytes32 ref, uint256 nonce)
        internal
        view
        returns (Payments.PaymentAuthorization memory a)
    {
        a = payAuth(from, to, value, ref, nonce);
        a.signature = signBytes(key, payDigest(token, a));
    }
}
