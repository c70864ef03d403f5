// Hardhat 3 needs Node >= 22, but npm may run on an older system Node. npm on
// Node < 22 silently skips optional native packages that declare
// `engines: node >= 22` (notably @nomicfoundation/edr-linux-x64-gnu). This
// hook runs with node_modules/.bin first on PATH, i.e. under the Node 22 from
// the `node` devDependency; re-running install here adds what was skipped.
// Plain .mjs on purpose: it must run before anything else is known to work.
import { spawnSync } from "node:child_process";

const agent = process.env.npm_config_user_agent ?? "";
const match = /node\/v(\d+)/.exec(agent);
const npmNodeMajor = match ? Number(match[1]) : Number(process.versions.node.split(".")[0]);

if (npmNodeMajor < 22 && !process.env.ORIOLE_POSTINSTALL) {
  console.log(`oriole: npm ran on Node ${npmNodeMajor}; re-running install under Node ${process.versions.node} for Node-22-only optional packages`);
  const r = spawnSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"], {
    stdio: "inherit",
    env: { ...process.env, ORIOLE_POSTINSTALL: "1" },
  });
  process.exit(r.status ?? 1);
}
