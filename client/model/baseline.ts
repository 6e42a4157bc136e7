/** How the extension words a pipeline's learned baseline and the choices it offers about it ("This is normal", reset, undo). */
import type { BaselineChangeResult, BaselineInfo, DetectorName, MetricsEvent, PipelineInfo, PipelineState } from '../../shared/protocol';
import { formatCount, formatPercent } from './format';

/** The action on the message that confirms a baseline change. */
export const UNDO_ACTION = 'Undo';
/** The confirming button of the modal "Reset Baseline" question. */
export const RESET_ACTION = 'Reset Baseline';

/** The baseline while it is being learnt, else undefined. */
export function learningOf(baseline: BaselineInfo | undefined): BaselineInfo | undefined {
  return baseline?.state === 'learning' ? baseline : undefined;
}

/**
 * The baseline a pipeline is learning, worth showing: it is live and a check ran (a pipeline still connecting or that
 * never reached its broker has learnt nothing; its state is the news).
 */
export function learningNow(p: { state: PipelineState; score?: number | undefined; baseline?: BaselineInfo | undefined }): BaselineInfo | undefined {
  const live = p.state === 'running' || p.state === 'paused' || p.state === 'reconnecting' || p.state === 'connecting';
  return live && p.score !== undefined ? learningOf(p.baseline) : undefined;
}

/** `450`: records learnt so far toward the window (never past it). */
function learnt(baseline: BaselineInfo): string {
  return formatCount(Math.min(baseline.records, baseline.needed));
}

/** `450/1,000`: records learnt of those needed. */
export function learningProgress(baseline: BaselineInfo): string {
  return `${learnt(baseline)}/${formatCount(baseline.needed)}`;
}

/** `learning 450/1,000`: a tree row's short form. */
export function learningShort(baseline: BaselineInfo): string {
  return `learning ${learningProgress(baseline)}`;
}

/** `Learning baseline: 450 / 1,000 records — alerts held`: the chart's label while a pipeline learns. */
export function learningLabel(baseline: BaselineInfo): string {
  return `Learning baseline: ${learnt(baseline)} / ${formatCount(baseline.needed)} records — alerts held`;
}

/** The lines a pipeline's tooltip gives its baseline. */
export function baselineTooltip(baseline: BaselineInfo | undefined): string[] {
  if (!baseline) return [];
  const restored = baseline.restored ? ' It resumed a saved baseline.' : '';
  if (baseline.state === 'learning') {
    return [
      `Learning its baseline: ${learnt(baseline)} of ${formatCount(baseline.needed)} records.${restored}`,
      'Alerts driven by the baseline are held until the first window is learnt; hard limits (parse, duplicates, your thresholds) still alert.',
    ];
  }
  return [`Baseline ready, learnt from ${formatCount(baseline.records)} records.${restored}`];
}

/** One entry of the palette's "This is normal" pick: a detector, or every detector (no `detector`). */
export interface AcceptChoice {
  label: string;
  description: string;
  detector?: DetectorName;
}

/** The detectors of a pipeline's latest check (but rules), those standing out first, then "Every detector". */
export function acceptChoices(metrics: Pick<MetricsEvent, 'detectors'> | undefined): AcceptChoice[] {
  const rows = metrics ? (Object.entries(metrics.detectors) as Array<[DetectorName, { rate: number; out?: boolean } | undefined]>) : [];
  // Rules are the user's contract: never offered as "normal".
  const present = rows.filter((r): r is [DetectorName, { rate: number; out?: boolean }] => r[1] !== undefined && r[0] !== 'rules');
  const out = present.filter(([, d]) => d.out === true);
  const calm = present.filter(([, d]) => d.out !== true);
  return [
    ...out.map(([name, d]) => ({ label: name, description: `${formatPercent(d.rate)} · stands out now`, detector: name })),
    ...calm.map(([name, d]) => ({ label: name, description: formatPercent(d.rate), detector: name })),
    { label: 'Every detector', description: 'the current level of every detector on every field' },
  ];
}

/** The modal question before a reset, and its detail. */
export function resetConfirmation(info: Pick<PipelineInfo, 'id' | 'baseline'>): { message: string; detail: string } {
  const needed = info.baseline?.needed;
  const next = needed !== undefined ? `its next ${formatCount(needed)} records` : 'its next window';
  return {
    message: `Reset the learned baseline of "${info.id}"?`,
    detail: `It learns ${next} afresh, and alerts driven by the baseline are held until then. "Undo Baseline Change" puts the old one back.`,
  };
}

/** The message that confirms a baseline change, with Undo when the agent can undo it. */
export function baselineChangeNotice(pipeline: string, result: Pick<BaselineChangeResult, 'changed' | 'message' | 'info'>, offerUndo: boolean): { text: string; actions: string[] } {
  const undoable = offerUndo && result.changed > 0 && result.info.canUndoBaseline === true;
  return { text: `Clean Streams · ${pipeline}: ${result.message}`, actions: undoable ? [UNDO_ACTION] : [] };
}
