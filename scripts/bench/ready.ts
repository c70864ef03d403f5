/** Polls the node's /readyz until it answers 200 (the indexer has caught up), for at most `timeoutMs`. */
export async function waitReady(apiUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${apiUrl}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the node at ${apiUrl} was not ready within ${String(timeoutMs / 1000)} s`);
}
