/** The read-only samples document: one JSON object per line, the record's position first. */
import type { SampleRecord } from '../../shared/protocol';

export interface SamplesTitle {
  pipeline: string;
  detector?: string;
  /** The alert's time: the document holds exactly the records behind that alert. */
  alert?: number;
}

/** Parses a payload that is JSON so the line shows it as an object, else keeps the text. */
function payloadOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function samplesText(title: SamplesTitle, samples: readonly SampleRecord[], now: Date): string {
  const what = title.detector ? `flagged by ${title.detector}` : 'flagged by any detector';
  const count = `${samples.length} record${samples.length === 1 ? '' : 's'}, newest first`;
  const header = [
    title.alert !== undefined
      ? `// Clean Streams samples of ${title.pipeline} behind the ${title.detector ?? 'score'} alert at ${new Date(title.alert).toISOString()}: ${count}, as kept when it fired.`
      : `// Clean Streams samples of ${title.pipeline}, ${what}: ${count}, as of ${now.toISOString()}.`,
    '// One JSON object per line: position in the source, record number, detector, why, and the payload (cut at 2 KB).',
  ];
  if (samples.length === 0) {
    header.push(
      title.alert !== undefined
        ? "// The agent no longer keeps the records behind this alert (it keeps those of its last 50 alerts, none from before a restart). The alert names them by record number and position."
        : '// No offending records in the current window.',
    );
  }
  const lines = samples.map((s) =>
    JSON.stringify({
      position: s.position ?? null,
      record: s.record,
      detector: s.detector,
      reason: s.reason,
      time: new Date(s.time).toISOString(),
      payload: payloadOf(s.text),
    }),
  );
  return [...header, ...lines].join('\n') + '\n';
}

/** The virtual document's path: what its tab shows (`orders · duplicates.jsonl`, `orders · duplicates alert 06:00:18.jsonl`). */
export function samplesPath(pipeline: string, detector?: string, alert?: number): string {
  const which = alert !== undefined ? `${detector ?? 'score'} alert ${new Date(alert).toISOString().slice(11, 19)}` : detector ?? 'all detectors';
  return `/${pipeline.replace(/[\\/]/g, '_')} · ${which}.jsonl`;
}

/** The virtual document's query: which samples it holds. */
export function samplesQuery(pipeline: string, detector?: string, alert?: number): string {
  const q = new URLSearchParams({ pipeline });
  if (detector) q.set('detector', detector);
  if (alert !== undefined) q.set('alert', String(alert));
  return q.toString();
}

export function parseSamplesQuery(query: string): SamplesTitle | undefined {
  const q = new URLSearchParams(query);
  const pipeline = q.get('pipeline');
  if (!pipeline) return undefined;
  const out: SamplesTitle = { pipeline };
  const detector = q.get('detector');
  if (detector) out.detector = detector;
  const alert = Number(q.get('alert') ?? NaN);
  if (q.has('alert') && Number.isFinite(alert)) out.alert = alert;
  return out;
}
