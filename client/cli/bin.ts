#!/usr/bin/env node
// The `oriole` command. Runs on Node >= 22.18 (type stripping): `npx oriole`
// or `node_modules/.bin/node client/cli/bin.ts` use the repo's Node 22.
import { runCli } from "./main.ts";

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
