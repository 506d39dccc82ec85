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
  /**
   * A catalog object was created; governance forgets grants a lost cascade may have left on its name. `since` is a
   * time taken before the object's row was written: only grants older than that can be leftovers.
   */
  'catalog.securable.created': { type: CatalogObjectType; fullName: string; since: number };
  /** A catalog object was dropped (SQL DROP, a REST delete, a registered model's delete); governance forgets its grants and its children's. */
  'catalog.securable.dropped': { type: CatalogObjectType; fullName: string };
  /** A catalog object got a new full name (REST `new_name`, SQL rename, MLflow rename); governance moves its grants and its children's. */
  'catalog.securable.renamed': { type: CatalogObjectType; fullName: string; newFullName: string };
  /** A SQL statement wrote a table (CTAS, INSERT, MERGE, UPDATE, DELETE, COPY INTO); published before the statement reports success. */
  'sql.table.written': SqlTableWritten;
  /** A run logged dataset inputs (MLflow `log-inputs`). */
  'tracking.run.inputs_logged': {
    runId: string;
    experimentId: string;
    userName: string;
    datasets: { name: string; digest: string; sourceType: string; source: string }[];
  };
  /** An endpoint's config went live: these model versions now serve its traffic. */
  'serving.endpoint.config_applied': {
    endpointId: string;
    endpoint: string;
    /** Each served version by the registered model's three-level name. */
    servedVersions: { model: string; version: number }[];
    /** The inference (payload) table's full name when capture is on. */
    payloadTable?: string;
  };
}

/** A Unity Catalog object kind, as the permissions API spells securable types. */
export type CatalogObjectType = 'catalog' | 'schema' | 'table' | 'volume' | 'function' | 'registered_model';

/** One table written by one SQL statement, with what lineage needs to trace its sources. */
export interface SqlTableWritten {
  statementId: string;
  userName: string;
  operation: 'CREATE_TABLE_AS_SELECT' | 'INSERT' | 'INSERT_OVERWRITE' | 'MERGE' | 'UPDATE' | 'DELETE' | 'COPY_INTO';
  target: { catalog: string; schema: string; name: string };
  /** Every catalog object the statement read (views and the tables under them included). */
  reads: { catalog: string; schema: string; name: string; type: string }[];
  /** Where one- and two-part names in the texts below resolve. */
  defaults: { catalog: string; schema: string };
  /** The query whose select list feeds the target's columns by position (INSERT ... SELECT, CTAS, a MERGE source). */
  query?: string;
  /** Target columns in the query's output order (INSERT's column list); absent when they are the query's own names (CTAS). */
  targetColumns?: string[];
  /** Assigned columns: target column → expression (UPDATE SET, MERGE UPDATE SET / INSERT VALUES); `*` maps same-named source columns. */
  assignments?: { column: string; expression: string }[];
  /** MERGE: the source's and the target's aliases in the assignments, and whether `*` (UPDATE SET * / INSERT *) was used. */
  mergeSource?: { alias: string; targetAlias: string; star: boolean };
  /** Files read from a path (COPY INTO's `/Volumes/...` source). */
  paths?: string[];
}

/** A subscriber for one event name. */
export type EventHandler<K extends keyof WeirEvents> = (payload: WeirEvents[K]) => void | Promise<void>;

/** A tiny typed publish/subscribe bus; a failing subscriber is reported but never breaks the publisher. */
export interface EventBus {
  on<K extends keyof WeirEvents>(name: K, handler: EventHandler<K>): () => void;
  emit<K extends keyof WeirEvents>(name: K, payload: WeirEvents[K]): void;
  /** Like `emit`, but resolves once every subscriber has finished, so what they record is durable before the publisher answers. */
  publish<K extends keyof WeirEvents>(name: K, payload: WeirEvents[K]): Promise<void>;
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
    async publish(name, payload) {
      for (const h of [...(handlers.get(name) ?? [])]) {
        try {
          await h(payload);
        } catch (err) {
          onError(name, err);
        }
      }
    },
  };
}
