// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {Payments} from "./Payments.sol";
import {AccountWord} from "./AccountWord.sol";

/**
 * @title StableToken
 * @notice A fiat-backed stablecoin for one currency (USD, CNY, EUR, HKD, ...),
 * with USDC-grade controls: 6 decimals; EIP-2612 permit; ERC-3009
 * authorizations; ERC-1271 contract signers on every signed path; payments
 * with a merchant reference, merchant fees and batch settlement; a master
 * minter and per-minter allowances; pause; account freezing; rescue of tokens
 * sent here by mistake; two-step admin transfer.
 *
 * Deployed behind an ERC-1967 proxy (UUPS: only the admin can upgrade). All
 * state lives in ERC-7201 namespaces (see README, "Storage layout").
 *
 * @dev ERC-7201 namespace `oriole.storage.Issuance`: the currency code and the minters.
 */
contract StableToken is Initializable, UUPSUpgradeable, Payments {
    using AccountWord for uint256;
    using SafeERC20 for IERC20;

    /// @notice The accounts given their roles at initialization.
    struct InitialRoles {
        address admin;
        address masterMinter;
        address pauser;
        address complianceOfficer;
        address rescuer;
        address feeCollector;
        /// A first minter configured by the initializer (zero for none), and its allowance.
        address minter;
        uint256 minterAllowance;
    }

    struct Minter {
        bool active;
        uint248 allowance;
    }

    /// @custom:storage-location erc7201:oriole.storage.Issuance
    struct IssuanceStorage {
        string currency;
        mapping(address minter => Minter) minters;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.Issuance")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant ISSUANCE_STORAGE = 0x1da3f779ea6540c4878fd3eff046daf8be2b40cc7105d9450fb17972c6fa0f00;

    /// @notice `minter` created `amount` tokens for `to`.
    event Mint(address indexed minter, address indexed to, uint256 amount);
    /// @notice `burner` destroyed `amount` of its own tokens.
    event Burn(address indexed burner, uint256 amount);
    /// @notice The master minter made `minter` a minter allowed to mint `allowance` more.
    event MinterConfigured(address indexed minter, uint256 allowance);
    /// @notice The master minter removed `minter`.
    event MinterRemoved(address indexed minter);
    /// @notice The compliance officer froze `account`.
    event Frozen(address indexed account);
    /// @notice The compliance officer unfroze `account`.
    event Unfrozen(address indexed account);
    /// @notice The rescuer sent `amount` of `token`, held by this contract, to `to`.
    event Rescued(address indexed token, address indexed to, uint256 amount);

    /// @notice The currency code is empty or longer than 8 bytes.
    error StableTokenInvalidCurrency(string currency);
    /// @notice An amount of zero was passed where a positive amount is needed.
    error StableTokenZeroAmount();
    /// @notice `caller` is not an active minter.
    error StableTokenNotMinter(address caller);
    /// @notice `minter` may mint `allowance` more, less than `amount`.
    error StableTokenMintAllowanceExceeded(address minter, uint256 allowance, uint256 amount);
    /// @notice A minter allowance above 2^248 - 1 was given.
    error StableTokenInvalidMinterAllowance(uint256 allowance);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /**
     * @notice Sets up a new token behind its proxy. Runs once.
     * @param name_ Token name, also the EIP-712 domain name, e.g. "Oriole US Dollar".
     * @param symbol_ Token symbol, e.g. "oUSD".
     * @param currency_ ISO 4217 currency code, e.g. "USD".
     * @param roles The role accounts (none may be zero) and an optional first minter.
     */
    function initialize(
        string calldata name_,
        string calldata symbol_,
        string calldata currency_,
        InitialRoles calldata roles
    ) external initializer {
        uint256 len = bytes(currency_).length;
        if (len == 0 || len > 8) revert StableTokenInvalidCurrency(currency_);
        ERC20Storage storage $ = _erc20();
        $.name = name_;
        $.symbol = symbol_;
        _issuance().currency = currency_;
        _setDomainName(name_);
        _setRoleAccount(Role.Admin, roles.admin);
        _setRoleAccount(Role.MasterMinter, roles.masterMinter);
        _setRoleAccount(Role.Pauser, roles.pauser);
        _setRoleAccount(Role.ComplianceOfficer, roles.complianceOfficer);
        _setRoleAccount(Role.Rescuer, roles.rescuer);
        _setRoleAccount(Role.FeeCollector, roles.feeCollector);
        if (roles.minter != address(0)) _configureMinter(roles.minter, roles.minterAllowance);
    }

    function _issuance() private pure returns (IssuanceStorage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := ISSUANCE_STORAGE
        }
    }

    /// @notice ISO 4217 code of the currency this token represents, e.g. "USD".
    function currency() external view returns (string memory) {
        return _issuance().currency;
    }

    // ---------------------------------------------------------------- minting

    /// @notice Whether `account` is an active minter.
    function isMinter(address account) external view returns (bool) {
        return _issuance().minters[account].active;
    }

    /// @notice How much more `minter` may mint.
    function minterAllowance(address minter) external view returns (uint256) {
        return _issuance().minters[minter].allowance;
    }

    /**
     * @notice Makes `minter` a minter that may mint `allowance` more (replacing its previous allowance).
     * @dev Only the master minter. Emits {MinterConfigured}.
     */
    function configureMinter(address minter, uint256 allowance) external onlyRole(Role.MasterMinter) {
        _configureMinter(minter, allowance);
    }

    /**
     * @notice Removes `minter`: it can no longer mint or burn.
     * @dev Only the master minter. Emits {MinterRemoved}.
     */
    function removeMinter(address minter) external onlyRole(Role.MasterMinter) {
        delete _issuance().minters[minter];
        emit MinterRemoved(minter);
    }

    /**
     * @notice Creates `amount` tokens for `to`, using the caller's minter allowance.
     * @dev Only an active minter. Refused while paused and when `to` is frozen.
     * Emits {Mint} and {Transfer}.
     */
    function mint(address to, uint256 amount) external {
        Minter storage m = _issuance().minters[msg.sender];
        if (!m.active) revert StableTokenNotMinter(msg.sender);
        if (amount == 0) revert StableTokenZeroAmount();
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        uint256 left = m.allowance;
        if (amount > left) revert StableTokenMintAllowanceExceeded(msg.sender, left, amount);
        unchecked {
            m.allowance = uint248(left - amount);
        }
        _update(address(0), to, amount);
        emit Mint(msg.sender, to, amount);
    }

    /**
     * @notice Destroys `amount` of the caller's own tokens (a minter redeeming fiat).
     * @dev Only an active minter. Refused while paused and when the caller is frozen.
     * Emits {Burn} and {Transfer}.
     */
    function burn(uint256 amount) external {
        if (!_issuance().minters[msg.sender].active) revert StableTokenNotMinter(msg.sender);
        if (amount == 0) revert StableTokenZeroAmount();
        _update(msg.sender, address(0), amount);
        emit Burn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- compliance

    /**
     * @notice Freezes `account`: it can no longer send, receive, approve, sign
     * permits or authorizations, or be minted to. Its balance stays as it is.
     * @dev Only the compliance officer. Emits {Frozen}.
     */
    function freeze(address account) external onlyRole(Role.ComplianceOfficer) {
        _setAccountWord(account, _accountWord(account).withFrozen(true));
        emit Frozen(account);
    }

    /**
     * @notice Unfreezes `account`.
     * @dev Only the compliance officer. Emits {Unfrozen}.
     */
    function unfreeze(address account) external onlyRole(Role.ComplianceOfficer) {
        _setAccountWord(account, _accountWord(account).withFrozen(false));
        emit Unfrozen(account);
    }

    // ---------------------------------------------------------------- rescue

    /**
     * @notice Sends `amount` of `token` held by this contract (sent here by
     * mistake) to `to`. Works for this token too.
     * @dev Only the rescuer. Emits {Rescued}.
     */
    function rescueERC20(IERC20 token, address to, uint256 amount) external onlyRole(Role.Rescuer) {
        if (address(token) == address(this)) _transfer(address(this), to, amount);
        else token.safeTransfer(to, amount);
        emit Rescued(address(token), to, amount);
    }

    // ---------------------------------------------------------------- upgrades

    /// @dev Only the admin upgrades (UUPS).
    function _authorizeUpgrade(address) internal view override onlyRole(Role.Admin) {}

    function _configureMinter(address minter, uint256 allowance) private {
        if (minter == address(0)) revert ERC20InvalidReceiver(address(0));
        if (allowance > type(uint248).max) revert StableTokenInvalidMinterAllowance(allowance);
        _issuance().minters[minter] = Minter({active: true, allowance: uint248(allowance)});
        emit MinterConfigured(minter, allowance);
    }
}
