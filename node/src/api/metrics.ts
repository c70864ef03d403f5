/**
 * The few metrics the node exposes at /metrics, in the Prometheus text
 * format (version 0.0.4). Hand-written: a handful of series does not need a
 * client library.
 */

/** Request latency buckets, seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series {
  labels: string;
  counts: number[];
  sum: number;
  count: number;
}

export class RequestHistogram {
  readonly #series = new Map<string, Series>();

  observe(route: string, method: string, status: number, seconds: number): void {
    const labels = `route="${escapeLabel(route)}",method="${escapeLabel(method)}",status="${status.toString()}"`;
    let s = this.#series.get(labels);
    if (s === undefined) {
      s = { labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#series.set(labels, s);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= (BUCKETS[i] ?? Infinity)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += seconds;
    s.count += 1;
  }

  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    for (const s of this.#series.values()) {
      BUCKETS.forEach((b, i) => lines.push(`${name}_bucket{${s.labels},le="${b.toString()}"} ${(s.counts[i] ?? 0).toString()}`));
      lines.push(`${name}_bucket{${s.labels},le="+Inf"} ${s.count.toString()}`);
      lines.push(`${name}_sum{${s.labels}} ${s.sum.toString()}`);
      lines.push(`${name}_count{${s.labels}} ${s.count.toString()}`);
    }
    return lines.join("\n");
  }
}

/** One gauge or counter without labels. */
export function scalar(name: string, type: "gauge" | "counter", help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value.toString()}`;
}

/** One counter or gauge with one label, a series per label value. */
export function labelled(name: string, type: "gauge" | "counter", help: string, label: string, values: Readonly<Record<string, number>>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [v, n] of Object.entries(values)) lines.push(`${name}{${label}="${escapeLabel(v)}"} ${n.toString()}`);
  return lines.join("\n");
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
