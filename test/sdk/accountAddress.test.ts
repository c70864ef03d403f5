import { expect } from "chai";
import { AbiCoder, concat, getAddress, keccak256, toUtf8Bytes } from "ethers";
import { accountSalt, cloneInitCode, predictAccountAddress } from "../../client/sdk/account/accountAddress.ts";

const FACTORY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const IMPL = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const QX = keccak256(toUtf8Bytes("qx"));
const QY = keccak256(toUtf8Bytes("qy"));

/**
 * OpenZeppelin Clones.predictDeterministicAddress, transcribed from its assembly:
 * keccak256(0xff ‖ deployer ‖ salt ‖ keccak256(0x3d602d80600a3d3981f3363d3d373d3d3d363d73 ‖ impl ‖ 0x5af43d82803e903d91602b57fd5bf3))[12:].
 */
function ozPredict(implementation: string, salt: string, deployer: string): string {
  const bytecodeHash = keccak256(concat(["0x3d602d80600a3d3981f3363d3d373d3d3d363d73", implementation, "0x5af43d82803e903d91602b57fd5bf3"]));
  return getAddress(`0x${keccak256(concat(["0xff", deployer, salt, bytecodeHash])).slice(-40)}`);
}

describe("sdk/accountAddress", function () {
  it("salts with keccak256(abi.encode(qx, qy, salt))", function () {
    expect(accountSalt(QX, QY, 7n)).to.equal(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint256"], [QX, QY, 7n])));
  });

  it("builds the 55-byte ERC-1167 clone creation code", function () {
    const code = cloneInitCode(IMPL.toLowerCase());
    expect((code.length - 2) / 2).to.equal(55);
    expect(code.toLowerCase()).to.contain(IMPL.slice(2).toLowerCase());
  });

  it("matches OZ Clones' prediction formula", function () {
    const a = predictAccountAddress({ factory: FACTORY, implementation: IMPL, qx: QX, qy: QY, salt: 0n });
    expect(a).to.equal(ozPredict(IMPL, accountSalt(QX, QY, 0n), FACTORY));
    expect(a).to.equal(getAddress(a));
    // Every input moves the address.
    const others = [
      predictAccountAddress({ factory: IMPL, implementation: IMPL, qx: QX, qy: QY, salt: 0n }),
      predictAccountAddress({ factory: FACTORY, implementation: FACTORY, qx: QX, qy: QY, salt: 0n }),
      predictAccountAddress({ factory: FACTORY, implementation: IMPL, qx: QY, qy: QX, salt: 0n }),
      predictAccountAddress({ factory: FACTORY, implementation: IMPL, qx: QX, qy: QY, salt: 1n }),
    ];
    expect(new Set([a, ...others]).size).to.equal(5);
  });
});
