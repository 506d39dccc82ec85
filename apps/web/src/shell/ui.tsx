import type { ReactNode } from 'react';
import { errorMessage } from '../lib/api.ts';

/** Shows the server's message for a failed request, announced to screen readers. */
export function ErrorBox({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>{title}:</strong> {errorMessage(error)}
    </div>
  );
}

/** An empty state that says what to do next. */
export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

/** A polite loading line for screen readers and eyes alike. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Formats a metric or param value compactly without hiding precision that matters. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    // Six decimals keep what people compare (0.123456) without float noise (0.30000000000000004).
    return abs !== 0 && (abs < 1e-3 || abs >= 1e9) ? value.toExponential(4) : String(Number(value.toFixed(6)));
  }
  return value === undefined || value === null ? '' : String(value);
}

/** A millisecond timestamp as local date and time. */
export function formatTime(ms: number | undefined): string {
  if (!ms) return '';
  return new Date(ms).toLocaleString();
}
