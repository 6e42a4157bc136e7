/**
 * The alert state machine, one per watched metric (the score, and each detector): an alert fires when the
 * metric starts to stand out, not on every check; a second one fires once if it turns critical; `recovered`
 * follows when it no longer stands out. After an alert, the same metric stays quiet for the cooldown, so a
 * value that flaps does not flood anyone.
 *
 * - detector: stands out when any of its findings does (a field's rate departs from its learned baseline,
 *   or a hard limit is passed; the detectors apply their own hysteresis). Critical at three times the
 *   limit (and at least 25 % of records, for a baseline limit).
 * - score: only when the user wrote `qualityThreshold` (a hard limit): breached below it, critical at or
 *   below `qualityThreshold - 0.2`, recovered at `qualityThreshold + hysteresis × (1 - qualityThreshold)`;
 *   it names what stands out, or else what usually pulls the score down. With the default threshold the
 *   score is shown (tree, chart, status bar) but not alerted on: what lowers it is either a detector that
 *   stands out, whose own alert names the cause, or the stream's usual level, which is nothing to act on.
 */
import type { DetectorName, PipelineConfig } from './config';
import type { AlertEvent, AlertField, MetricsEvent, RecoveredEvent, Sample, Severity } from './events';
import { round6 } from './events';
import type { Finding } from './detectors/types';

interface MetricState {
  level: 0 | 1 | 2;
  /** Whether the current episode was announced (an alert fired), so that its recovery is too. */
  announced: boolean;
  lastFired: number;
}

/** Fields an alert names at most. */
const ALERT_FIELDS = 5;

export class AlertChecker {
  private readonly states = new Map<string, MetricState>();

  constructor(private readonly config: PipelineConfig) {}

  /**
   * Evaluates one check. `findings` are what stands out now (QualityEngine.judge); `clock` is seconds (time
   * cooldown) or records (record cooldown), matching `config.cooldown`; `samples` gives the records behind a metric.
   */
  evaluate(m: MetricsEvent, findings: readonly Finding[], samples: (detector: DetectorName | null) => Sample[]): Array<AlertEvent | RecoveredEvent> {
    const out: Array<AlertEvent | RecoveredEvent> = [];
    const clock = 'records' in this.config.cooldown ? m.records : m.time / 1000;
    const cooldown = 'records' in this.config.cooldown ? this.config.cooldown.records : this.config.cooldown.seconds;
    if (m.window > 0) {
      const t = this.config.qualityThreshold;
      const h = this.config.hysteresis;
      const hard = this.config.scoreIsHard;
      const breached = hard && m.score < t;
      const recovered = !hard || m.score >= t + h * (1 - t);
      // Under a threshold the user wrote, with nothing departing from its baseline, the alert still names what
      // pulls the score down: the detectors and fields that flag the most records (their usual level, that is).
      const causes = findings.length > 0 ? findings : contributors(m);
      const alert = (severity: Severity): AlertEvent => this.alert(null, m, m.score, t, severity, causes, samples(null));
      this.step('score', breached, m.score <= t - 0.2, recovered, clock, cooldown, m.window, alert, out);
    }
    for (const name of Object.keys(m.detectors) as DetectorName[]) {
      const mine = findings.filter((f) => f.detector === name);
      const worst = mine[0];
      const critical = worst !== undefined && worst.share >= Math.min(1, worst.hard ? 3 * worst.limit : Math.max(3 * worst.limit, 0.25));
      const value = worst?.share ?? m.detectors[name]!.rate;
      const threshold = worst?.limit ?? m.detectors[name]!.threshold;
      const alert = (severity: Severity): AlertEvent => this.alert(name, m, value, threshold, severity, mine, samples(name));
      this.step(name, worst !== undefined, critical, worst === undefined, clock, cooldown, m.window, alert, out);
    }
    return out;
  }

  private step(
    key: string,
    breached: boolean,
    critical: boolean,
    recovered: boolean,
    clock: number,
    cooldown: number,
    window: number,
    alert: (severity: Severity) => AlertEvent,
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
        out.push(alert(s.level === 2 ? 'critical' : 'warning'));
      } else {
        s.announced = false;
      }
      return;
    }
    if (recovered) {
      const severity: Severity = s.level === 2 ? 'critical' : 'warning';
      s.level = 0;
      if (s.announced) {
        const a = alert(severity);
        out.push({ ...a, type: 'recovered', message: recoveredMessage(a, window), samples: [], fields: [] });
      }
      s.announced = false;
      return;
    }
    if (s.level === 1 && critical) {
      // Escalation is news, not flapping: it is announced whatever the cooldown.
      s.level = 2;
      s.announced = true;
      s.lastFired = clock;
      out.push(alert('critical'));
    }
  }

  private alert(detector: DetectorName | null, m: MetricsEvent, value: number, threshold: number, severity: Severity, findings: readonly Finding[], samples: Sample[]): AlertEvent {
    const fields = findings.slice(0, ALERT_FIELDS).map(toAlertField);
    return {
      type: 'alert',
      pipeline: m.pipeline,
      time: m.time,
      severity,
      detector,
      value: round6(value),
      threshold: round6(threshold),
      records: m.records,
      message: alertMessage(detector, value, threshold, m.window, findings, samples),
      samples,
      fields,
    };
  }
}

/** What lowers the score when nothing stands out: each detector that flags records, with its most flagged field. */
function contributors(m: MetricsEvent): Finding[] {
  const out: Finding[] = [];
  for (const [d, x] of Object.entries(m.detectors) as Array<[DetectorName, { rate: number; threshold: number }]>) {
    if (x.rate <= 0) continue;
    let field: string | null = null;
    let share = 0;
    for (const [name, f] of Object.entries(m.fields)) {
      const v = d === 'missing' ? f.missing : d === 'outliers' ? f.outliers ?? 0 : d === 'rules' ? f.rules ?? 0 : 0;
      if (v > share) [field, share] = [name, v];
    }
    const where = field !== null ? ` (most on ${JSON.stringify(field)}, ${(share * 100).toFixed(1)}%)` : '';
    out.push({ detector: d, name: field, share: x.rate, usual: x.rate, limit: x.threshold, hard: true, detail: `${(x.rate * 100).toFixed(1)}% of records flagged${where}, as usual for this stream` });
  }
  return out.sort((a, b) => b.share - a.share);
}

function toAlertField(f: Finding): AlertField {
  const out: AlertField = { name: f.name, share: round6(f.share), usual: round6(f.usual), detail: f.detail };
  if (f.examples && f.examples.length) out.examples = f.examples;
  if (f.range) out.range = f.range;
  if (f.type) out.type = f.type;
  if (f.usualType) out.usualType = f.usualType;
  if (f.renamedFrom) out.renamedFrom = f.renamedFrom;
  return out;
}


function alertMessage(detector: DetectorName | null, value: number, threshold: number, window: number, findings: readonly Finding[], samples: Sample[]): string {
  const where = samples.length ? ` Latest: record ${samples[0].record}${samples[0].position !== undefined ? ` (position ${samples[0].position})` : ''}.` : '';
  const mine = detector === null ? findings : findings.filter((f) => f.detector === detector);
  const more = mine.length > 1 ? ` (+${mine.length - 1} more)` : '';
  const cause = mine.length ? `${detector === null ? `${mine[0].detector}: ` : ''}${mine[0].detail}${more}` : '';
  if (detector === null) return `Quality score ${value.toFixed(3)} is below the threshold ${threshold.toFixed(2)} over the last ${window} records${cause ? `; ${cause}` : ''}.${where}`;
  return `${detector} in the last ${window} records: ${cause}.${where}`;
}

function recoveredMessage(a: AlertEvent, window: number): string {
  if (a.detector === null) return `Quality score is back to ${a.value.toFixed(3)} (threshold ${a.threshold.toFixed(2)}) over the last ${window} records.`;
  return `${a.detector}: back to normal, ${(a.value * 100).toFixed(1)}% of the last ${window} records flagged.`;
}
