import { AbiCoder, type BytesLike, concat, getAddress, getCreate2Address, keccak256 } from "ethers";

/**
 * Counterfactual PasskeyAccount addresses: the factory deploys each account as an
 * ERC-1167 minimal proxy (OpenZeppelin Clones) with CREATE2, so the address is
 * known, and can receive funds, before the first payment deploys it.
 */

/** The CREATE2 salt the factory uses: keccak256(abi.encode(qx, qy, salt)). */
export function accountSalt(qx: BytesLike, qy: BytesLike, salt: bigint): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint256"], [qx, qy, salt]));
}

/** ERC-1167 creation code for a clone of `implementation` (what OZ Clones deploys). */
export function cloneInitCode(implementation: string): string {
  return concat(["0x3d602d80600a3d3981f3363d3d373d3d3d363d73", getAddress(implementation), "0x5af43d82803e903d91602b57fd5bf3"]);
}

/** Where the factory deploys (or deployed) the account of device (qx, qy) with `salt`; = `factory.accountAddress(qx, qy, salt)`. */
export function predictAccountAddress(p: { factory: string; implementation: string; qx: BytesLike; qy: BytesLike; salt: bigint }): string {
  return getCreate2Address(getAddress(p.factory), accountSalt(p.qx, p.qy, p.salt), keccak256(cloneInitCode(p.implementation)));
}
