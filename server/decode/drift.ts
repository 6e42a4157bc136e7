/**
 * Schema-aware drift: what changed between two writer schemas of a topic, from the schemas themselves
 * (fields added or removed, a field's declared type changed), said in one line.
 */
import type { SchemaField } from './types';

/** The changes from `before` to `after`, e.g. `added "coupon" (string); removed "note"; "amount" long → string`; '' when none. */
export function schemaChanges(before: readonly SchemaField[], after: readonly SchemaField[]): string {
  const old = new Map(before.map((f) => [f.name, f.type]));
  const now = new Map(after.map((f) => [f.name, f.type]));
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const f of after) {
    const t = old.get(f.name);
    if (t === undefined) added.push(`"${f.name}" (${f.type})`);
    else if (t !== f.type) changed.push(`"${f.name}" ${t} → ${f.type}`);
  }
  for (const f of before) if (!now.has(f.name)) removed.push(`"${f.name}"`);
  const parts: string[] = [];
  if (added.length) parts.push(`added ${added.join(', ')}`);
  if (removed.length) parts.push(`removed ${removed.join(', ')}`);
  if (changed.length) parts.push(changed.join(', '));
  return parts.join('; ');
}
