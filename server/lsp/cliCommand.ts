/** The `clean-agent watch …` line equivalent to a pipeline, for copy-paste into a terminal or CI (no secret values). */
import type { PipelineSettings } from '../engine/config';
import type { SourceSpec, StartPosition } from '../sources/types';
import { DEMO_RULES } from '../sources/demo';

/** A source URL for a spec (the inverse of parseSourceUrl), naming secrets but never carrying one. */
export function sourceUrlOf(spec: SourceSpec): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(spec.options ?? {})) if (v !== undefined && v !== null && typeof v !== 'object') query.set(k, String(v));
  if (spec.auth?.secret) query.set('secret', spec.auth.secret);
  if (spec.auth?.mechanism) query.set('mechanism', spec.auth.mechanism);
  const tls = spec.tls;
  if (tls && typeof tls === 'object' && tls.ca) query.set('ca', tls.ca);
  else if (tls === true && spec.backend === 'kafka') query.set('tls', 'true');
  const q = query.toString() ? `?${query.toString()}` : '';
  const user = spec.auth?.username ? `${encodeURIComponent(spec.auth.username)}@` : '';
  switch (spec.backend) {
    case 'kafka':
      return `kafka://${user}${(spec.brokers ?? []).join(',')}/${encodeURIComponent(spec.topic)}${q}`;
    case 'redis': {
      const base = (spec.url ?? 'redis://127.0.0.1:6379').replace(/\/+$/, '');
      return `${user ? base.replace('://', `://${user}`) : base}/${encodeURIComponent(spec.topic)}${q}`;
    }
    case 'pulsar':
      return `${(spec.url ?? 'pulsar://127.0.0.1:6650').replace(/\/+$/, '')}/${spec.topic}${q}`;
    case 'file':
      return `file:${spec.topic}${q}`;
    case 'demo':
      return `demo:${spec.topic}${q}`;
    default:
      return `${spec.backend}:${spec.topic}`;
  }
}

export function fromText(from: StartPosition): string | undefined {
  switch (from.kind) {
    case 'earliest':
      return 'earliest';
    case 'time':
      return new Date(from.time).toISOString();
    case 'id':
      return from.id;
    default:
      return undefined;
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function cliCommandOf(spec: SourceSpec, settings: PipelineSettings): string {
  const args = ['clean-agent', 'watch', shellQuote(sourceUrlOf(spec))];
  const from = fromText(spec.from);
  if (from) args.push('--from', shellQuote(from));
  if (settings.windowSize !== undefined) args.push('--window', String(settings.windowSize));
  if (settings.qualityThreshold !== undefined) args.push('--threshold', String(settings.qualityThreshold));
  const ci = settings.checkInterval;
  if (ci) args.push('--check-every', 'records' in ci ? String(ci.records) : ci.seconds < 1 ? `${Math.round(ci.seconds * 1000)}ms` : `${ci.seconds}s`);
  if (settings.detectors) args.push('--detectors', settings.detectors.join(','));
  // The rules travel whole (JSON, as fields: in clean.yaml); the demo's own rules are implied by demo:.
  const fields = settings.fields;
  if (fields && Object.keys(fields).length > 0 && !(spec.backend === 'demo' && sameRules(fields, DEMO_RULES))) args.push('--fields', shellQuote(JSON.stringify(fields)));
  return args.join(' ');
}

function sameRules(a: object, b: object): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
