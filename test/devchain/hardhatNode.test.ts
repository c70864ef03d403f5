import { expect } from "chai";
import { freePort, startHardhatNode } from "../../scripts/devchain/hardhatNode.ts";

describe("devchain: startHardhatNode", function () {
  this.timeout(120_000);

  it("a chain started on a port another chain holds fails, instead of handing out the other chain", async function () {
    const port = await freePort();
    const first = await startHardhatNode({ port });
    try {
      // Two test runs at once can race for one port: the loser used to find the winner's RPC answering and share its chain.
      let second: Awaited<ReturnType<typeof startHardhatNode>> | undefined;
      try {
        second = await startHardhatNode({ port });
      } catch (e) {
        expect((e as Error).message).to.match(/exited before answering/);
      }
      if (second) {
        await second.stop();
        expect.fail("the second chain should not have started on a taken port");
      }
    } finally {
      await first.stop();
    }
  });
});
