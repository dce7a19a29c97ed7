import { Counter, Gauge, type Registry } from 'prom-client';
import type { ViewRecorder } from './view-recorder.ts';

/** Beacons waiting, flushes done and failed, and flush durations (the crash-loss bound beyond one interval). */
export function registerViewMetrics(registry: Registry, stats: () => ViewRecorder['stats']): void {
  const gauge = (name: string, help: string, read: (s: ViewRecorder['stats']) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(stats()));
      },
    });
  const counter = (name: string, help: string, read: (s: ViewRecorder['stats']) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(stats()));
      },
    });
  gauge('reel_view_batches_pending', 'Beacon batches acknowledged and not yet written', (s) => s.pending);
  gauge('reel_view_flush_last_seconds', 'Duration of the last flush', (s) => s.lastFlushMs / 1000);
  gauge(
    'reel_view_flush_max_seconds',
    'Duration of the slowest flush since start',
    (s) => s.maxFlushMs / 1000,
  );
  gauge(
    'reel_view_flushed_through_seconds',
    'Every beacon acknowledged before this time (Unix seconds) is written: a crash loses at most what came after',
    (s) => s.flushedThrough / 1000,
  );
  counter('reel_view_flushes_total', 'Flushes written', (s) => s.flushes);
  counter(
    'reel_view_flush_failures_total',
    'Flushes that failed (their batches wait for the next)',
    (s) => s.failures,
  );
  counter('reel_view_batches_flushed_total', 'Beacon batches written', (s) => s.batches);
}
