/**
 * The events a pipeline emits and the alert handlers it feeds, shared by the single-thread pipeline
 * (pipeline.ts) and the threaded one (scale/shardedPipeline.ts), so the CLI and the agent treat both alike.
 * A listener or handler that throws (or rejects) is logged and the others go on: none can stop a pipeline.
 */
import type { AlertEvent, EndEvent, MetricsEvent, PipelineEvent, RecoveredEvent, StatusEvent } from './events';
import type { Logger } from '../sources/types';

export type AlertHandler = (event: AlertEvent | RecoveredEvent) => void | Promise<void>;

export type Listeners = {
  metrics: (e: MetricsEvent) => void;
  alert: (e: AlertEvent) => void;
  recovered: (e: RecoveredEvent) => void;
  status: (e: StatusEvent) => void;
  end: (e: EndEvent) => void;
};

export class PipelineEvents {
  private readonly listeners: { [K in keyof Listeners]: Array<Listeners[K]> } = { metrics: [], alert: [], recovered: [], status: [], end: [] };
  private readonly handlers: AlertHandler[] = [];

  constructor(
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Listeners>(type: K, listener: Listeners[K]): () => void {
    const list = this.listeners[type] as Array<Listeners[K]>;
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  addAlertHandler(handler: AlertHandler): void {
    this.handlers.push(handler);
  }

  emit<K extends keyof Listeners>(type: K, event: Parameters<Listeners[K]>[0]): void {
    for (const l of this.listeners[type] as Array<(e: PipelineEvent) => void>) {
      try {
        l(event as PipelineEvent);
      } catch (err) {
        this.log.error(`[${this.name}] a ${type} listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** An alert or recovery from a check: logged, emitted, and handed to every alert handler. */
  raise(e: AlertEvent | RecoveredEvent): void {
    if (e.type === 'alert') {
      this.log.info(`[${this.name}] ${e.severity} alert: ${e.message}`);
      this.emit('alert', e);
    } else {
      this.log.info(`[${this.name}] recovered: ${e.message}`);
      this.emit('recovered', e);
    }
    for (const h of this.handlers) {
      try {
        const r = h(e);
        if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => this.handlerFailed(err));
      } catch (err) {
        this.handlerFailed(err);
      }
    }
  }

  private handlerFailed(err: unknown): void {
    this.log.error(`[${this.name}] an alert handler failed (the pipeline goes on): ${err instanceof Error ? err.message : String(err)}`);
  }
}
