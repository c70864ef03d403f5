import { followSse, type SseFollower } from "../../sdk/eventStream.ts";

/** How long a burst of events (a payment and its relayer fee arrive together) is gathered into one change. */
const BURST_MS = 200;

export interface AccountUpdates {
  /** Follows `address`'s event stream (once per address; a new address replaces the old one). */
  follow(address: string): Promise<void>;
}

/**
 * The account's live stream, `GET /v1/accounts/{address}/events` (payments in and out as
 * the node indexes them, and their reorgs): `onChange` runs once per burst of events and
 * after a dropped stream resumes (followSse). A node whose stream cannot be opened leaves
 * the page as it was, with its Refresh button; the next follow() tries again.
 */
export function accountUpdates(onChange: () => void): AccountUpdates {
  let current: { address: string; follower: SseFollower | undefined } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const changed = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, BURST_MS);
  };
  return {
    async follow(address) {
      if (current?.address === address) return;
      current?.follower?.stop();
      const mine: { address: string; follower: SseFollower | undefined } = { address, follower: undefined };
      current = mine;
      try {
        const follower = await followSse(`/v1/accounts/${address}/events`, { onMessage: changed, onReconnect: changed });
        if (current === mine) mine.follower = follower;
        else follower.stop();
      } catch {
        if (current === mine) current = undefined;
      }
    },
  };
}
