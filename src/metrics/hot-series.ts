import type { Metric } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** A sample as the registry formats it: `metricName` defaults to the metric's name. */
interface Sample {
  labels: Readonly<Record<string, string | number>>;
  value: number;
  metricName?: string;
}

/** What the registry reads of a metric at scrape time. */
interface Scraped {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Sample[];
}

/**
 * The metrics bumped on every call and request, counted by hand. prom-client's own children
 * still build a label object and hash it on each `inc`/`observe`; a series here is made once per
 * label set and bumped with no allocation. The registry reads them at scrape time through
 * `get()`, the shape its own metrics give (see `register`).
 */
abstract class HotMetric<S> {
  protected readonly all: S[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** Every series made so far. */
  get series(): readonly S[] {
    return this.all;
  }

  abstract get(): Scraped;
}

/** One counter series. */
export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(): void {
    this.value++;
  }
}

/** One histogram series: a count per bucket (not cumulative; the last is +Inf), the sum, the count. */
export class HistogramSeries {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let index = 0;
    while (index < this.bounds.length && value > this.bounds[index]!) index++;
    this.buckets[index]!++;
    this.sum += value;
    this.count++;
  }
}

export class HotCounter extends HotMetric<CounterSeries> {
  readonly type = 'counter';
  readonly aggregator = 'sum';

  /** A new series for `labels`; the caller keeps it (one per label set). */
  make(labels: Labels): CounterSeries {
    const series = new CounterSeries(labels);
    this.all.push(series);
    return series;
  }

  get(): Scraped {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.all.map(({ labels, value }) => ({ labels, value })) };
  }
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    name: string,
    help: string,
    readonly bounds: readonly number[],
  ) {
    super(name, help);
  }

  make(labels: Labels): HistogramSeries {
    const series = new HistogramSeries(labels, this.bounds);
    this.all.push(series);
    return series;
  }

  get(): Scraped {
    const values: Sample[] = [];
    for (const series of this.all) {
      let cumulative = 0;
      series.buckets.forEach((count, index) => {
        cumulative += count;
        const le = index < this.bounds.length ? this.bounds[index]! : '+Inf';
        values.push({ labels: { ...series.labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** Adds a hot metric to `registry`, which reads it as one of its own (`get()`, `name`, `help`, `type`). */
export function register(registry: { registerMetric(metric: Metric): void }, metric: HotMetric<unknown>): void {
  registry.registerMetric(metric as unknown as Metric);
}
