/** A web UI session; only a SHA-256 of the session id is stored, so a leaked database cannot be replayed as cookies. */
export interface WebSessionsTable {
  id_hash: string;
  principal_id: number;
  created_at: number;
  expires_at: number;
}

/** Tables owned by the web domain. */
export interface WebTables {
  web_sessions: WebSessionsTable;
}
