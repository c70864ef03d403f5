import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatEthersChaiMatchers from "@nomicfoundation/hardhat-ethers-chai-matchers";
import hardhatIgnitionEthers from "@nomicfoundation/hardhat-ignition-ethers";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatTypechain from "@nomicfoundation/hardhat-typechain";

// Hardhat cannot download compilers on this network: use the wasm build that
// ships in the npm `solc` package. Hardhat needs an absolute path.
const require = createRequire(import.meta.url);
const SOLC_VERSION: string = (require("solc/package.json") as { version: string }).version;
const SOLJSON_PATH = require.resolve("solc/soljson.js");

const LOCAL_RPC_URL = process.env.ORIOLE_RPC_URL ?? "http://127.0.0.1:8545";

export default defineConfig({
  plugins: [
    hardhatEthers,
    hardhatEthersChaiMatchers,
    hardhatIgnitionEthers,
    hardhatMocha,
    hardhatNetworkHelpers,
    hardhatTypechain,
  ],
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        path: SOLJSON_PATH,
        settings: {
          optimizer: { enabled: true, runs: 10_000 },
          evmVersion: "osaka",
        },
      },
    ],
    overrides: {
      "contracts/account/PasskeyAccount.sol": {
        version: SOLC_VERSION,
        path: SOLJSON_PATH,
        settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "osaka", viaIR: true },
      },
    },
  },
  paths: {
    sources: "contracts",
    tests: {
      solidity: "test/contracts",
      mocha: "test",
    },
    ignition: "scripts/ignition",
  },
  test: {
    solidity: {
      fuzz: { runs: 256 },
      invariant: { runs: 64, depth: 32 },
    },
    mocha: {
      timeout: 120_000,
    },
  },
  networks: {
    // The default in-process network: Hardhat 3 defaults to osaka, which has
    // the EIP-7951 P-256 precompile at 0x100.
    default: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "osaka",
    },
    // Same chain without the P-256 precompile, to exercise Solidity fallbacks.
    prague: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "prague",
    },
    // A chain that unlocks its own accounts (hardhat node, anvil).
    localhost: {
      type: "http",
      chainType: "l1",
      url: LOCAL_RPC_URL,
    },
    // Any other EVM chain: the deployer key comes from the environment (or
    // Hardhat's keystore) and is never written to a file of this repo.
    remote: {
      type: "http",
      chainType: "l1",
      url: configVariable("ORIOLE_RPC_URL"),
      accounts: [configVariable("ORIOLE_DEPLOYER_KEY")],
    },
  },
});
