/**
 * `clean-agent baseline show|accept|undo|reset --state <dir> [<pipeline>]`: the saved baselines of headless
 * runs, and "This is normal" for them. A running `watch`/`run` on the same folder takes the change in at
 * its next save (within ten seconds); a stopped one at its next start.
 */
import { readdirSync } from 'node:fs';
import type { CliOptions } from './args';
import { BaselineStore, acceptInSaved } from '../engine/baselineStore';
import { UsageError } from '../sources/url';
import { TYPE_NAMES } from '../engine/fields';

export function runBaselineCommand(opts: CliOptions): number {
  const store = new BaselineStore(opts.state!);
  const name = opts.target;
  const out = (line: string) => process.stdout.write(line + '\n');
  try {
    switch (opts.action) {
      case 'show': {
        const names = name !== undefined ? [name] : savedNames(store.dir);
        if (names.length === 0) out(`No saved baseline in ${store.dir}.`);
        for (const n of names) {
          const s = store.load(n);
          if (!s) throw new UsageError(`no saved baseline for "${n}" in ${store.dir}${listHint(store.dir)}`);
          out(`${n}: learnt from ${s.learnedRecords.toLocaleString('en')} records, saved ${new Date(s.savedAt).toISOString()}${store.hasPrevious(n) ? ' (undo available)' : ''}`);
          for (const [d, b] of Object.entries(s.detectors)) out(`  ${d.padEnd(10)} usually ${pct((b as { m: number }).m)}, now ${pct(s.now?.[d as keyof typeof s.now] ?? 0)}`);
          for (const f of s.fields) {
            const bits = [`type ${f.type ? TYPE_NAMES[f.type] : 'mixed'}`, `missing usually ${pct(f.missing.m)}${f.now ? ` (now ${pct(f.now.missing)})` : ''}`];
            if (f.sketch) bits.push(`outliers usually ${pct(f.outliers.m)}${f.now ? ` (now ${pct(f.now.outliers)})` : ''}`);
            if (f.novel) bits.push(`NEW FIELD in ${pct(f.now?.schema ?? 0)} of records, not yet accepted`);
            else if (f.now && f.now.schema > 0) bits.push(`schema drift ${pct(f.now.schema)}`);
            out(`  "${f.name}": ${bits.join(', ')}`);
          }
        }
        return 0;
      }
      case 'accept': {
        const s = store.load(name!);
        if (!s) throw new UsageError(`no saved baseline for "${name}" in ${store.dir}${listHint(store.dir)}`);
        if (opts.field !== undefined && !s.fields.some((f) => f.name === opts.field)) throw new UsageError(`"${name}" has no field "${opts.field}"; its fields: ${s.fields.map((f) => f.name).join(', ')}`);
        store.keepPrevious(name!);
        const n = acceptInSaved(s, opts.detector ?? null, opts.field ?? null);
        store.save(name!, s);
        out(`Accepted the saved levels of ${opts.detector ?? 'every detector'}${opts.field !== undefined ? ` on "${opts.field}"` : ''} as normal for "${name}" (${n} metric${n === 1 ? '' : 's'}). Undo with: clean-agent baseline undo --state ${store.dir} ${name}`);
        return 0;
      }
      case 'undo':
        if (!store.restorePrevious(name!)) throw new UsageError(`nothing to undo for "${name}" in ${store.dir}`);
        out(`Restored the baseline of "${name}" as it was before the last change.`);
        return 0;
      case 'reset':
        if (!store.remove(name!)) throw new UsageError(`no saved baseline for "${name}" in ${store.dir}${listHint(store.dir)}`);
        out(`Forgot the baseline of "${name}": its next run learns afresh. Undo with: clean-agent baseline undo --state ${store.dir} ${name}`);
        return 0;
    }
  } catch (err) {
    process.stderr.write(`clean-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
  return 2;
}

function savedNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.baseline.json'))
      .map((f) => f.slice(0, -'.baseline.json'.length))
      .sort();
  } catch {
    return [];
  }
}

function listHint(dir: string): string {
  const names = savedNames(dir);
  return names.length ? `; saved: ${names.join(', ')}` : '';
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
