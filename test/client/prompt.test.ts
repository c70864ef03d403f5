import { expect } from "chai";
import { PassThrough } from "node:stream";
import { createPrompter, readHidden } from "../../client/cli/prompt.ts";
import { OrioleError } from "../../client/sdk/errors.ts";

/** A stand-in for a terminal: records raw-mode switches. */
class FakeTty extends PassThrough {
  isTTY = true;
  rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.rawModes.push(mode);
    return this;
  }
}

function capture() {
  let text = "";
  return { write: (s: string) => (text += s), get text() { return text; } };
}

describe("hidden prompts", function () {
  it("reads a line in raw mode without echoing it, handling backspace and escape sequences", async function () {
    const tty = new FakeTty();
    const out = capture();
    const answer = readHidden(tty, out, "PIN: ");
    tty.write("12");
    tty.write("x\u007f3\u001b[D45");
    tty.write("6\r");
    expect(await answer).to.equal("123456");
    expect(out.text).to.equal("PIN: \n");
    expect(tty.rawModes).to.deep.equal([true, false]);
  });

  it("handles multi-byte characters, Ctrl-U, and Ctrl-D on an empty line", async function () {
    const tty = new FakeTty();
    const out = capture();
    const a = readHidden(tty, out, "? ");
    tty.write(Buffer.from("junk\u0015密码密码密码\n", "utf8"));
    expect(await a).to.equal("密码密码密码");
    const b = readHidden(tty, out, "? ");
    tty.write("\u0004");
    expect(await b).to.equal(null);
  });

  it("Ctrl-C cancels and restores the terminal", async function () {
    const tty = new FakeTty();
    const a = readHidden(tty, capture(), "PIN: ");
    tty.write("12\u0003");
    try {
      await a;
      expect.fail("not cancelled");
    } catch (e) {
      expect((e as OrioleError).code).to.equal("cancelled");
    }
    expect(tty.rawModes).to.deep.equal([true, false]);
  });

  it("takes successive lines from a pipe when stdin is not a terminal", async function () {
    const pipe = new PassThrough();
    const out = capture();
    const p = createPrompter(pipe, out);
    pipe.end("first\r\nsecond\n");
    expect(await p.secret("a: ")).to.equal("first");
    expect(await p.secret("b: ")).to.equal("second");
    expect(await p.secret("c: ")).to.equal(null);
    p.close();
    expect(out.text).to.equal("");
  });
});
