/** Polls the node's /readyz until it answers 200 (the indexer has caught up), for at most 60 s. */
export async function waitReady(apiUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${apiUrl}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the node at ${apiUrl} was not ready within 60 s`);
}
