/**
 * A pipeline of a group as the metrics endpoint (metrics.ts) reports it. Apart from metrics.ts, which loads
 * prom-client, so that an agent without an endpoint never loads it.
 */
import type { AlertEvent, MetricsEvent, StatusEvent } from '../engine/events';
import type { MeteredPipeline } from './metrics';

/** Where metrics and alerts are shown from instead of the pipeline's own (a group's merged view, server/scale/group.ts). */
export interface ShownEvents {
  on(type: 'metrics', listener: (e: MetricsEvent) => void): unknown;
  on(type: 'alert', listener: (e: AlertEvent) => void): unknown;
}

/**
 * A pipeline of a group (`--group`) as the endpoint reports it: its own state and connection, the group's merged
 * metrics and alerts (what the agent shows and alerts on). Until the first merged check, its own metrics.
 */
export function meteredAs(own: MeteredPipeline, shown: ShownEvents): MeteredPipeline {
  let last: MetricsEvent | null = null;
  shown.on('metrics', (m) => (last = m));
  const on = (type: 'status' | 'alert' | 'end', listener: (e: never) => void): (() => void) => {
    if (type !== 'alert') return own.on(type as 'status', listener as (e: StatusEvent) => void);
    // The merged view's listeners last as long as its wiring (a restarted pipeline is wired afresh): off only mutes.
    let live = true;
    shown.on('alert', (e) => live && (listener as (e: AlertEvent) => void)(e));
    return () => void (live = false);
  };
  return {
    name: own.name,
    get state() {
      return own.state;
    },
    get message() {
      return own.message;
    },
    snapshot: () => last ?? own.snapshot(),
    on: on as MeteredPipeline['on'],
  };
}
