import { expect } from "chai";
import { OrioleError } from "../../client/sdk/errors.ts";

/** The OrioleError code `f` throws ("no error" when it returns); anything but an OrioleError fails the test. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(OrioleError);
    return (e as OrioleError).code;
  }
  return "no error";
}
