/**
 * The alert state machine, one per watched metric (the score, and each detector's rate):
 * an alert fires when the value crosses its threshold, not on every check; a second one fires once if it
 * turns critical; `recovered` follows when the value is back past the threshold by the hysteresis margin.
 * After an alert, the same metric stays quiet for the cooldown, so a value that flaps around its threshold
 * does not flood anyone.
 *
 * - score: breached below `qualityThreshold`, critical at or below `qualityThreshold - 0.2`,
 *   recovered at `qualityThreshold + hysteresis × (1 - qualityThreshold)`.
 * - detector rate: breached above its threshold, critical at or above `min(1, 3 × threshold)`,
 *   recovered at or below `threshold × (1 - hysteresis)`.
 */
import type { DetectorName, PipelineConfig } from './config';
import type { AlertEvent, MetricsEvent, RecoveredEvent, Sample, Severity } from './events';

interface MetricState {
  level: 0 | 1 | 2;
  /** Whether the current episode was announced (an alert fired), so that its recovery is too. */
  announced: boolean;
  lastFired: number;
}

export class AlertChecker {
  private readonly states = new Map<string, MetricState>();

  constructor(private readonly config: PipelineConfig) {}

  /**
   * Evaluates one check. `clock` is seconds (time cooldown) or records (record cooldown), matching
   * `config.cooldown`; `samples` gives the records behind a metric.
   */
  evaluate(m: MetricsEvent, samples: (detector: DetectorName | null) => Sample[]): Array<AlertEvent | RecoveredEvent> {
    const out: Array<AlertEvent | RecoveredEvent> = [];
    const clock = 'records' in this.config.cooldown ? m.records : m.time / 1000;
    const cooldown = 'records' in this.config.cooldown ? this.config.cooldown.records : this.config.cooldown.seconds;
    const h = this.config.hysteresis;
    if (m.window > 0) {
      const t = this.config.qualityThreshold;
      this.step('score', null, m, m.score, t, m.score < t, m.score <= t - 0.2, m.score >= t + h * (1 - t), clock, cooldown, samples, out);
    }
    for (const [name, d] of Object.entries(m.detectors) as Array<[DetectorName, { rate: number; threshold: number }]>) {
      const t = d.threshold;
      this.step(name, name, m, d.rate, t, d.rate > t, d.rate >= Math.min(1, 3 * t), d.rate <= t * (1 - h), clock, cooldown, samples, out);
    }
    return out;
  }

  private step(
    key: string,
    detector: DetectorName | null,
    m: MetricsEvent,
    value: number,
    threshold: number,
    breached: boolean,
    critical: boolean,
    recovered: boolean,
    clock: number,
    cooldown: number,
    samples: (detector: DetectorName | null) => Sample[],
    out: Array<AlertEvent | RecoveredEvent>,
  ): void {
    let s = this.states.get(key);
    if (!s) this.states.set(key, (s = { level: 0, announced: false, lastFired: -Infinity }));
    if (s.level === 0) {
      if (!breached) return;
      s.level = critical ? 2 : 1;
      if (clock - s.lastFired >= cooldown) {
        s.announced = true;
        s.lastFired = clock;
        out.push(this.alert(detector, m, value, threshold, s.level === 2 ? 'critical' : 'warning', samples(detector)));
      } else {
        s.announced = false;
      }
      return;
    }
    if (recovered) {
      const severity: Severity = s.level === 2 ? 'critical' : 'warning';
      s.level = 0;
      if (s.announced) out.push({ ...this.alert(detector, m, value, threshold, severity, []), type: 'recovered', message: recoveredMessage(detector, value, threshold, m.window) });
      s.announced = false;
      return;
    }
    if (s.level === 1 && critical) {
      // Escalation is news, not flapping: it is announced whatever the cooldown.
      s.level = 2;
      s.announced = true;
      s.lastFired = clock;
      out.push(this.alert(detector, m, value, threshold, 'critical', samples(detector)));
    }
  }

  private alert(detector: DetectorName | null, m: MetricsEvent, value: number, threshold: number, severity: Severity, samples: Sample[]): AlertEvent {
    return {
      type: 'alert',
      pipeline: m.pipeline,
      time: m.time,
      severity,
      detector,
      value,
      threshold,
      records: m.records,
      message: alertMessage(detector, value, threshold, m.window, samples),
      samples,
    };
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function alertMessage(detector: DetectorName | null, value: number, threshold: number, window: number, samples: Sample[]): string {
  const where = samples.length ? ` Latest: record ${samples[0].record}${samples[0].position !== undefined ? ` (position ${samples[0].position})` : ''}.` : '';
  if (detector === null) return `Quality score ${value.toFixed(3)} is below the threshold ${threshold.toFixed(2)} over the last ${window} records.${where}`;
  return `${detector}: ${pct(value)} of the last ${window} records are flagged (threshold ${pct(threshold)}).${where}`;
}

function recoveredMessage(detector: DetectorName | null, value: number, threshold: number, window: number): string {
  if (detector === null) return `Quality score is back to ${value.toFixed(3)} (threshold ${threshold.toFixed(2)}) over the last ${window} records.`;
  return `${detector}: back to ${pct(value)} of the last ${window} records (threshold ${pct(threshold)}).`;
}
