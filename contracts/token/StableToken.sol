// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/**
 * @title StableToken
 * @notice A fiat-backed stablecoin for one currency (USD, CNY, EUR, HKD, ...).
 * Amounts are integers in base units with 6 decimals, like USDC.
 *
 * This is the first slice: ERC-20, a currency code, and role-gated mint and
 * burn. Permit, ERC-3009 authorizations, pause, freeze, minter allowances and
 * upgradeability come with the complete token.
 */
contract StableToken is ERC20, AccessControl {
    /// @notice Role allowed to mint new tokens and burn its own balance.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice ISO 4217 code of the currency this token represents, e.g. "USD".
    string public currency;

    /// @notice Emitted when `minter` creates `amount` tokens for `to`.
    event Mint(address indexed minter, address indexed to, uint256 amount);

    /// @notice Emitted when `burner` destroys `amount` of its own tokens.
    event Burn(address indexed burner, uint256 amount);

    /// @notice The currency code is empty or longer than 8 bytes.
    error StableTokenInvalidCurrency(string currency);

    /// @notice The admin passed to the constructor is the zero address.
    error StableTokenInvalidAdmin(address admin);

    /// @notice An amount of zero was passed where a positive amount is needed.
    error StableTokenZeroAmount();

    /**
     * @param name_ Token name, e.g. "Oriole US Dollar".
     * @param symbol_ Token symbol, e.g. "oUSD".
     * @param currency_ ISO 4217 currency code, e.g. "USD".
     * @param admin Holder of DEFAULT_ADMIN_ROLE, who grants MINTER_ROLE.
     */
    constructor(string memory name_, string memory symbol_, string memory currency_, address admin)
        ERC20(name_, symbol_)
    {
        uint256 len = bytes(currency_).length;
        if (len == 0 || len > 8) revert StableTokenInvalidCurrency(currency_);
        if (admin == address(0)) revert StableTokenInvalidAdmin(admin);
        currency = currency_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Every Oriole currency has 6 decimals.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /**
     * @notice Creates `amount` tokens for `to`.
     * @dev Only MINTER_ROLE. Emits {Mint} and {Transfer}.
     */
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        if (amount == 0) revert StableTokenZeroAmount();
        _mint(to, amount);
        emit Mint(_msgSender(), to, amount);
    }

    /**
     * @notice Destroys `amount` of the caller's own tokens.
     * @dev Only MINTER_ROLE: a minter redeems fiat by burning what it holds.
     * Emits {Burn} and {Transfer}.
     */
    function burn(uint256 amount) external onlyRole(MINTER_ROLE) {
        if (amount == 0) revert StableTokenZeroAmount();
        _burn(_msgSender(), amount);
        emit Burn(_msgSender(), amount);
    }
}
