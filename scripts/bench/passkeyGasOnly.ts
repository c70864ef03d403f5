/**
 * Dev runner: only the passkey gas bench (osaka), optionally the no-precompile
 * payment (ORIOLE_BENCH_PRAGUE=1) and a gas profile of the single payment
 * (ORIOLE_BENCH_PROFILE=1). `npx node scripts/bench/passkeyGasOnly.ts`
 */
import hre from "hardhat";
import { benchPasskeyGas } from "./passkeyGas.ts";
import { formatProfile, profileTx } from "./gasProfile.ts";

await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
const osaka = await hre.network.create({ network: "default", chainType: "l1" });
if (process.env.ORIOLE_BENCH_PROFILE === "1") {
  const { payment } = await benchPasskeyGas(osaka, { paymentOnly: true });
  const block = (await osaka.provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as { transactions: string[] };
  const hash = block.transactions[0];
  if (hash === undefined) throw new Error("no payment transaction");
  const names = new Map([
    ["0x0000000000000000000000000000000000000002", "sha256"],
    ["0x0000000000000000000000000000000000000100", "p256"],
  ]);
  console.log({ payment });
  console.log(formatProfile(await profileTx(osaka.provider, hash, names)));
} else {
  console.log(await benchPasskeyGas(osaka));
}
await osaka.close();
if (process.env.ORIOLE_BENCH_PRAGUE === "1") {
  const prague = await hre.network.create({ network: "prague", chainType: "l1" });
  console.log({ noPrecompile: (await benchPasskeyGas(prague, { paymentOnly: true })).payment });
  await prague.close();
}
