/** Every in-process event Weir emits, by name, with its payload type. Later capabilities add their own entries. */
export interface WeirEvents {
  /** A model version was registered (its files are in place when status is READY). */
  'registry.model_version.created': {
    catalog: string;
    schema: string;
    model: string;
    version: number;
    status: string;
    runId: string | null;
    servable: boolean;
  };
  /** An alias now points at a version (or was removed when `version` is null). */
  'registry.alias.moved': { catalog: string; schema: string; model: string; alias: string; version: number | null; previousVersion: number | null };
}

/** A subscriber for one event name. */
export type EventHandler<K extends keyof WeirEvents> = (payload: WeirEvents[K]) => void | Promise<void>;

/** A tiny typed publish/subscribe bus; a failing subscriber is reported but never breaks the publisher. */
export interface EventBus {
  on<K extends keyof WeirEvents>(name: K, handler: EventHandler<K>): () => void;
  emit<K extends keyof WeirEvents>(name: K, payload: WeirEvents[K]): void;
}

/** Creates an event bus; `onError` sees subscriber failures (the server logs them). */
export function createEventBus(onError: (name: string, err: unknown) => void = () => {}): EventBus {
  const handlers = new Map<string, Set<(payload: unknown) => void | Promise<void>>>();
  return {
    on(name, handler) {
      let set = handlers.get(name);
      if (!set) {
        set = new Set();
        handlers.set(name, set);
      }
      const h = handler as (payload: unknown) => void | Promise<void>;
      set.add(h);
      return () => set.delete(h);
    },
    emit(name, payload) {
      for (const h of handlers.get(name) ?? []) {
        try {
          const result = h(payload);
          if (result && typeof (result as Promise<void>).catch === 'function') (result as Promise<void>).catch((err) => onError(name, err));
        } catch (err) {
          onError(name, err);
        }
      }
    },
  };
}
