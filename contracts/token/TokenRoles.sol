// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title TokenRoles
 * @notice The single-account roles of a StableToken, USDC style, and the pause
 * flag:
 * - admin: sets every other role, merchant fees, upgrades the contract; a
 *   change of admin takes two steps (propose, then accept by the new admin);
 * - master minter: configures minters and their allowances;
 * - pauser: pauses and unpauses every path that moves money or uses a signature;
 * - compliance officer: freezes and unfreezes accounts;
 * - rescuer: recovers tokens sent to the token contract by mistake;
 * - fee collector (not a caller role): receives merchant fees.
 *
 * @dev ERC-7201 namespace `oriole.storage.Roles` holds the role accounts.
 *
 * The pause flag is bit 255 of the ERC-1967 implementation slot. The proxy
 * reads that slot on every call, so checking the flag costs a warm SLOAD
 * (100 gas) instead of a cold one (2,100): that is what keeps a transfer
 * within 1.2x of a plain OpenZeppelin ERC20 behind a proxy. The proxy and
 * OpenZeppelin's ERC1967Utils read the slot as an `address` (the low 160
 * bits, upper bits masked off) and write it by read-modify-write, so the
 * flag neither disturbs the proxy nor is lost in an upgrade. Tools that read
 * the raw slot must take its low 160 bits (see README, "Storage layout").
 */
abstract contract TokenRoles {
    /// @notice The roles, as they appear in {RoleAccountChanged} and {StableTokenUnauthorized}.
    enum Role {
        Admin,
        MasterMinter,
        Pauser,
        ComplianceOfficer,
        Rescuer,
        FeeCollector
    }

    /// @custom:storage-location erc7201:oriole.storage.Roles
    struct RolesStorage {
        address admin;
        address pendingAdmin;
        address masterMinter;
        address pauser;
        address complianceOfficer;
        address rescuer;
        address feeCollector;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.Roles")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant ROLES_STORAGE = 0xed75b4e724c84bc7efe7c7da79e84ac4c3e674aae62e3823a0c4b7c665d43200;

    // ERC-1967: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
    bytes32 private constant IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    uint256 private constant PAUSED_BIT = 1 << 255;

    /// @notice `role` moved from `previousAccount` to `newAccount`.
    event RoleAccountChanged(Role indexed role, address indexed previousAccount, address indexed newAccount);
    /// @notice The admin proposed `pendingAdmin` as its successor; it takes effect when accepted.
    event AdminTransferStarted(address indexed admin, address indexed pendingAdmin);
    /// @notice The admin withdrew its proposal of `pendingAdmin`.
    event AdminTransferCanceled(address indexed admin, address indexed pendingAdmin);
    /// @notice `account` paused every money-moving and signature path.
    event Paused(address account);
    /// @notice `account` lifted the pause.
    event Unpaused(address account);

    /// @notice `caller` does not hold `role`.
    error StableTokenUnauthorized(address caller, Role role);
    /// @notice `account` cannot hold `role` (the zero address).
    error StableTokenInvalidRoleAccount(Role role, address account);
    /// @notice `caller` is not the proposed admin `pendingAdmin`.
    error StableTokenNotPendingAdmin(address caller, address pendingAdmin);
    /// @notice The token is paused.
    error StableTokenPaused();
    /// @notice The token is not paused.
    error StableTokenNotPaused();

    function _roles() private pure returns (RolesStorage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := ROLES_STORAGE
        }
    }

    modifier onlyRole(Role role) {
        _checkRole(role);
        _;
    }

    modifier whenNotPaused() {
        _requireNotPaused();
        _;
    }

    // ---------------------------------------------------------------- views

    /// @notice The admin.
    function admin() public view returns (address) {
        return _roles().admin;
    }

    /// @notice The proposed next admin, or zero.
    function pendingAdmin() external view returns (address) {
        return _roles().pendingAdmin;
    }

    /// @notice The master minter.
    function masterMinter() external view returns (address) {
        return _roles().masterMinter;
    }

    /// @notice The pauser.
    function pauser() external view returns (address) {
        return _roles().pauser;
    }

    /// @notice The compliance officer.
    function complianceOfficer() external view returns (address) {
        return _roles().complianceOfficer;
    }

    /// @notice The rescuer.
    function rescuer() external view returns (address) {
        return _roles().rescuer;
    }

    /// @notice The account that receives merchant fees.
    function feeCollector() public view returns (address) {
        return _roles().feeCollector;
    }

    /// @notice Whether the token is paused.
    function paused() public view returns (bool isPaused) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            isPaused := shr(255, sload(IMPLEMENTATION_SLOT))
        }
    }

    /// @notice The account holding `role`.
    function roleAccount(Role role) public view returns (address) {
        RolesStorage storage $ = _roles();
        if (role == Role.Admin) return $.admin;
        if (role == Role.MasterMinter) return $.masterMinter;
        if (role == Role.Pauser) return $.pauser;
        if (role == Role.ComplianceOfficer) return $.complianceOfficer;
        if (role == Role.Rescuer) return $.rescuer;
        return $.feeCollector;
    }

    // ---------------------------------------------------------------- admin

    /**
     * @notice Proposes `newAdmin` as the next admin. Nothing changes until
     * `newAdmin` calls {acceptAdmin}; a new proposal replaces the previous one.
     * @dev Only the admin. Emits {AdminTransferStarted}.
     */
    function transferAdmin(address newAdmin) external onlyRole(Role.Admin) {
        if (newAdmin == address(0)) revert StableTokenInvalidRoleAccount(Role.Admin, newAdmin);
        _roles().pendingAdmin = newAdmin;
        emit AdminTransferStarted(msg.sender, newAdmin);
    }

    /**
     * @notice Withdraws the pending admin proposal.
     * @dev Only the admin. Emits {AdminTransferCanceled}.
     */
    function cancelAdminTransfer() external onlyRole(Role.Admin) {
        RolesStorage storage $ = _roles();
        address pending = $.pendingAdmin;
        delete $.pendingAdmin;
        emit AdminTransferCanceled(msg.sender, pending);
    }

    /**
     * @notice Completes an admin transfer: the caller becomes the admin.
     * @dev Only the pending admin. Emits {RoleAccountChanged}.
     */
    function acceptAdmin() external {
        RolesStorage storage $ = _roles();
        address pending = $.pendingAdmin;
        if (msg.sender != pending || pending == address(0)) revert StableTokenNotPendingAdmin(msg.sender, pending);
        address previous = $.admin;
        $.admin = pending;
        delete $.pendingAdmin;
        emit RoleAccountChanged(Role.Admin, previous, pending);
    }

    /**
     * @notice Gives `role` (any but the admin) to `account`.
     * @dev Only the admin. Emits {RoleAccountChanged}.
     */
    function setRoleAccount(Role role, address account) external onlyRole(Role.Admin) {
        if (role == Role.Admin) revert StableTokenInvalidRoleAccount(role, account);
        _setRoleAccount(role, account);
    }

    // ---------------------------------------------------------------- pause

    /**
     * @notice Pauses transfers, payments, mint, burn, approvals and every
     * signature path (permit, authorizations, batch settlement).
     * @dev Only the pauser. Emits {Paused}.
     */
    function pause() external onlyRole(Role.Pauser) {
        if (paused()) revert StableTokenPaused();
        _setPaused(true);
        emit Paused(msg.sender);
    }

    /**
     * @notice Lifts the pause.
     * @dev Only the pauser. Emits {Unpaused}.
     */
    function unpause() external onlyRole(Role.Pauser) {
        if (!paused()) revert StableTokenNotPaused();
        _setPaused(false);
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- internal

    function _setRoleAccount(Role role, address account) internal {
        if (account == address(0)) revert StableTokenInvalidRoleAccount(role, account);
        RolesStorage storage $ = _roles();
        address previous = roleAccount(role);
        if (role == Role.Admin) $.admin = account;
        else if (role == Role.MasterMinter) $.masterMinter = account;
        else if (role == Role.Pauser) $.pauser = account;
        else if (role == Role.ComplianceOfficer) $.complianceOfficer = account;
        else if (role == Role.Rescuer) $.rescuer = account;
        else $.feeCollector = account;
        emit RoleAccountChanged(role, previous, account);
    }

    function _checkRole(Role role) internal view {
        if (msg.sender != roleAccount(role)) revert StableTokenUnauthorized(msg.sender, role);
    }

    function _requireNotPaused() internal view {
        if (paused()) revert StableTokenPaused();
    }

    function _setPaused(bool isPaused) private {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let word := sload(IMPLEMENTATION_SLOT)
            sstore(IMPLEMENTATION_SLOT, or(and(word, not(PAUSED_BIT)), shl(255, isPaused)))
        }
    }
}
