// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {TokenRoles} from "./TokenRoles.sol";
import {AccountWord} from "./AccountWord.sol";

/**
 * @title PackedERC20
 * @notice The ERC-20 core of StableToken, written OpenZeppelin style (one
 * `_update` hook for transfers, mints and burns; IERC20Errors custom errors)
 * over {AccountWord}s: an account's balance, frozen flag, permit nonce and
 * merchant fee share one storage slot.
 *
 * Every balance change checks the pause flag and refuses frozen senders and
 * recipients. Approvals are refused while paused and when the owner or the
 * spender is frozen; a frozen spender cannot use an allowance.
 *
 * @dev ERC-7201 namespace `oriole.storage.ERC20`.
 */
abstract contract PackedERC20 is TokenRoles, IERC20, IERC20Metadata, IERC20Errors {
    using AccountWord for uint256;

    /// @custom:storage-location erc7201:oriole.storage.ERC20
    struct ERC20Storage {
        mapping(address account => uint256) accounts;
        mapping(address account => mapping(address spender => uint256)) allowances;
        uint256 totalSupply;
        string name;
        string symbol;
    }

    // keccak256(abi.encode(uint256(keccak256("oriole.storage.ERC20")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant ERC20_STORAGE = 0xc8861c4bdbf32abe6301af1c1ed457edd74d9d9a11dbf1c3bd46a2b2c8e91200;

    /// @notice `account` is frozen: it can neither send nor receive.
    error StableTokenAccountFrozen(address account);
    /// @notice Minting `amount` would take the total supply to `newSupply`, above `cap`.
    error StableTokenSupplyCapExceeded(uint256 newSupply, uint256 cap);

    function _erc20() internal pure returns (ERC20Storage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := ERC20_STORAGE
        }
    }

    // ---------------------------------------------------------------- ERC-20

    /// @inheritdoc IERC20Metadata
    function name() public view returns (string memory) {
        return _erc20().name;
    }

    /// @inheritdoc IERC20Metadata
    function symbol() external view returns (string memory) {
        return _erc20().symbol;
    }

    /// @notice Every Oriole currency has 6 decimals.
    function decimals() external pure returns (uint8) {
        return 6;
    }

    /// @inheritdoc IERC20
    function totalSupply() external view returns (uint256) {
        return _erc20().totalSupply;
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) public view returns (uint256) {
        return _erc20().accounts[account].balance();
    }

    /// @notice Whether `account` is frozen by the compliance officer.
    function isFrozen(address account) public view returns (bool) {
        return _erc20().accounts[account].isFrozen();
    }

    /// @inheritdoc IERC20
    function allowance(address owner, address spender) external view returns (uint256) {
        return _erc20().allowances[owner][spender];
    }

    /**
     * @notice Moves `value` tokens from the caller to `to`.
     * @dev Refused while paused or when either side is frozen. Emits {Transfer}.
     */
    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    /**
     * @notice Lets `spender` move up to `value` of the caller's tokens.
     * @dev Refused while paused or when the caller or `spender` is frozen. Emits {Approval}.
     */
    function approve(address spender, uint256 value) external returns (bool) {
        _approveChecked(msg.sender, spender, value);
        return true;
    }

    /**
     * @notice Moves `value` tokens from `from` to `to` using the caller's allowance.
     * @dev Refused while paused or when `from`, `to` or the caller is frozen.
     * An allowance of type(uint256).max is never decreased. Emits {Transfer}.
     */
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        _spendAllowance(from, msg.sender, value);
        _transfer(from, to, value);
        return true;
    }

    // ---------------------------------------------------------------- internal

    /// @dev The storage slot of `account`'s {AccountWord} (`accounts` is the namespace's first member).
    function _accountSlot(address account) internal pure returns (bytes32 slot) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, account)
            mstore(0x20, ERC20_STORAGE)
            slot := keccak256(0x00, 0x40)
        }
    }

    function _accountWord(address account) internal view returns (uint256) {
        return _erc20().accounts[account];
    }

    function _setAccountWord(address account, uint256 word) internal {
        _erc20().accounts[account] = word;
    }

    function _requireNotFrozen(address account) internal view {
        if (_erc20().accounts[account].isFrozen()) revert StableTokenAccountFrozen(account);
    }

    function _transfer(address from, address to, uint256 value) internal {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _update(from, to, value);
    }

    /**
     * @dev Moves `value` from `from` to `to`, minting when `from` is zero and
     * burning when `to` is zero. The one place balances change: it checks the
     * pause flag and both sides' frozen flags. Emits {Transfer}.
     */
    function _update(address from, address to, uint256 value) internal virtual {
        _requireNotPaused();
        ERC20Storage storage $ = _erc20();
        if (from == address(0)) {
            uint256 supply = $.totalSupply + value;
            if (supply > AccountWord.MAX_BALANCE) revert StableTokenSupplyCapExceeded(supply, AccountWord.MAX_BALANCE);
            $.totalSupply = supply;
        } else {
            uint256 word = $.accounts[from];
            if (word.isFrozen()) revert StableTokenAccountFrozen(from);
            uint256 fromBalance = word.balance();
            if (fromBalance < value) revert ERC20InsufficientBalance(from, fromBalance, value);
            unchecked {
                // value <= balance: no borrow out of the balance bits.
                $.accounts[from] = word - value;
            }
        }
        if (to == address(0)) {
            unchecked {
                // value <= balance <= totalSupply.
                $.totalSupply -= value;
            }
        } else {
            uint256 word = $.accounts[to];
            if (word.isFrozen()) revert StableTokenAccountFrozen(to);
            unchecked {
                // balance + value <= totalSupply <= MAX_BALANCE: no carry out of the balance bits.
                $.accounts[to] = word + value;
            }
        }
        emit Transfer(from, to, value);
    }

    /// @dev Approval with every check: not paused, neither side frozen, no zero addresses.
    function _approveChecked(address owner, address spender, uint256 value) internal {
        _requireNotPaused();
        _requireNotFrozen(owner);
        _requireNotFrozen(spender);
        _approve(owner, spender, value);
    }

    function _approve(address owner, address spender, uint256 value) internal {
        if (owner == address(0)) revert ERC20InvalidApprover(address(0));
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _erc20().allowances[owner][spender] = value;
        emit Approval(owner, spender, value);
    }

    /// @dev Uses `value` of `spender`'s allowance from `owner`; a frozen spender is refused.
    function _spendAllowance(address owner, address spender, uint256 value) internal {
        _requireNotFrozen(spender);
        mapping(address => uint256) storage allowed = _erc20().allowances[owner];
        uint256 current = allowed[spender];
        if (current != type(uint256).max) {
            if (current < value) revert ERC20InsufficientAllowance(spender, current, value);
            unchecked {
                allowed[spender] = current - value;
            }
        }
    }
}
