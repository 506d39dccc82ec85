import { sqlString } from '../sql/statement.ts';

/** The filters of the audit viewer; empty strings mean "any". */
export interface AuditFilters {
  user: string;
  service: string;
  action: string;
  /** 'success' (status < 400), 'failure' (status >= 400) or '' for both. */
  outcome: '' | 'success' | 'failure';
  /** Local date-time strings from `<input type="datetime-local">` (`2026-11-26T13:00`). */
  from: string;
  to: string;
  limit: number;
}

/** The columns the viewer shows, in order, read from `system.access.audit` (Databricks' schema: who and outcome are structs). */
export const AUDIT_COLUMNS = [
  'event_time',
  'user_identity.email AS user_name',
  'service_name',
  'action_name',
  'response.status_code AS status_code',
  'response.error_message AS error_message',
  'source_ip_address',
  'CAST(request_params AS VARCHAR) AS request_params',
] as const;

/** `2026-11-26T13:00` (local time) as a UTC timestamp literal, or undefined when the text is not a date-time. */
export function timestampLiteral(local: string): string | undefined {
  if (!local) return undefined;
  const ms = new Date(local).getTime();
  if (Number.isNaN(ms)) return undefined;
  return `TIMESTAMP ${sqlString(new Date(ms).toISOString().replace('T', ' ').replace('Z', ''))}`;
}

/**
 * The SQL for the audit viewer: every filter a bound, quoted literal (user text never becomes SQL), newest first.
 * User and action match as case-insensitive substrings, service exactly, so "model" finds every model action.
 */
export function auditQuery(f: AuditFilters, table = 'system.access.audit'): string {
  const where: string[] = [];
  const contains = (column: string, text: string) =>
    `lower(${column}) LIKE ${sqlString(`%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`)} ESCAPE '\\'`;
  if (f.user.trim()) where.push(contains('user_identity.email', f.user.trim()));
  if (f.service.trim()) where.push(`service_name = ${sqlString(f.service.trim())}`);
  if (f.action.trim()) where.push(contains('action_name', f.action.trim()));
  if (f.outcome === 'success') where.push('response.status_code < 400');
  if (f.outcome === 'failure') where.push('response.status_code >= 400');
  const from = timestampLiteral(f.from);
  const to = timestampLiteral(f.to);
  if (from) where.push(`event_time >= ${from}`);
  if (to) where.push(`event_time < ${to}`);
  const limit = Math.max(1, Math.min(100_000, Math.floor(f.limit) || 500));
  return `SELECT ${AUDIT_COLUMNS.join(', ')} FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY event_time DESC LIMIT ${limit}`;
}
