/** The read-only samples document: one JSON object per line, the record's position first. */
import type { SampleRecord } from '../../shared/protocol';

export interface SamplesTitle {
  pipeline: string;
  detector?: string;
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
  const header = [
    `// Clean Streams samples of ${title.pipeline}, ${what}: ${samples.length} record${samples.length === 1 ? '' : 's'}, newest first, as of ${now.toISOString()}.`,
    '// One JSON object per line: position in the source, record number, detector, why, and the payload (cut at 2 KB).',
  ];
  if (samples.length === 0) header.push('// No offending records in the current window.');
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

/** The virtual document's path: what its tab shows (`orders · duplicates.jsonl`). */
export function samplesPath(pipeline: string, detector?: string): string {
  return `/${pipeline.replace(/[\\/]/g, '_')} · ${detector ?? 'all detectors'}.jsonl`;
}

/** The virtual document's query: which samples it holds. */
export function samplesQuery(pipeline: string, detector?: string): string {
  const q = new URLSearchParams({ pipeline });
  if (detector) q.set('detector', detector);
  return q.toString();
}

export function parseSamplesQuery(query: string): { pipeline: string; detector?: string } | undefined {
  const q = new URLSearchParams(query);
  const pipeline = q.get('pipeline');
  if (!pipeline) return undefined;
  const detector = q.get('detector') ?? undefined;
  return detector ? { pipeline, detector } : { pipeline };
}
