import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { api } from '../../lib/api.ts';
import { completeName, nameAtCursor, tokenizeSql } from './sql-text.ts';

const namesCache = new Map<string, Promise<string[]>>();

/** Names one level below `parents` in the catalog: catalogs, a catalog's schemas, or a schema's tables. */
export function catalogNames(parents: readonly string[]): Promise<string[]> {
  const key = parents.join('.');
  let found = namesCache.get(key);
  if (!found) {
    const uc = '/api/2.1/unity-catalog';
    const [c, s] = parents;
    found = (
      parents.length === 0
        ? api()
            .get<{ catalogs?: { name: string }[] }>(`${uc}/catalogs`)
            .then((r) => (r.catalogs ?? []).map((x) => x.name))
        : parents.length === 1
          ? api()
              .get<{ schemas?: { name: string }[] }>(`${uc}/schemas`, { catalog_name: c })
              .then((r) => (r.schemas ?? []).map((x) => x.name))
          : api()
              .get<{ tables?: { name: string }[] }>(`${uc}/tables`, { catalog_name: c, schema_name: s, max_results: 1000 })
              .then((r) => (r.tables ?? []).map((x) => x.name))
    ).catch(() => {
      namesCache.delete(key);
      return [];
    });
    namesCache.set(key, found);
  }
  return found;
}

/** A SQL text area with highlighting (a coloured copy drawn under transparent text) and completion of catalog names. */
export function SqlEditor({ value, onChange, onRun, label }: { value: string; onChange(v: string): void; onRun(): void; label: string }) {
  const id = useId();
  const area = useRef<HTMLTextAreaElement>(null);
  const mirror = useRef<HTMLPreElement>(null);
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const [active, setActive] = useState(0);
  const [cursor, setCursor] = useState(0);
  // Where the caret goes after a completion replaces the text: set before the next keystroke can land.
  const pendingCaret = useRef<number | undefined>(undefined);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs after each text change, when a completion has just replaced the text
  useLayoutEffect(() => {
    const pos = pendingCaret.current;
    if (pos === undefined || !area.current) return;
    pendingCaret.current = undefined;
    area.current.setSelectionRange(pos, pos);
    setCursor(pos);
  }, [value]);

  useEffect(() => {
    const at = nameAtCursor(value, cursor);
    if (!at || at.parents.length > 2 || (at.parents.length === 0 && at.partial.length < 1)) {
      setSuggestions([]);
      return;
    }
    let live = true;
    catalogNames(at.parents).then((names) => {
      if (live) {
        setSuggestions(completeName(names, at.partial));
        setActive(0);
      }
    });
    return () => {
      live = false;
    };
  }, [value, cursor]);

  function accept(name: string) {
    const at = nameAtCursor(value, cursor);
    if (!at) return;
    const next = value.slice(0, at.start) + name + value.slice(cursor);
    const pos = at.start + name.length;
    pendingCaret.current = pos;
    onChange(next);
    setSuggestions([]);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      onRun();
      return;
    }
    if (suggestions.length === 0) return;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((a) => (a + 1) % suggestions.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (a - 1 + suggestions.length) % suggestions.length);
    } else if (e.key === 'Tab') {
      e.preventDefault();
      accept(suggestions[active] as string);
    } else if (e.key === 'Escape') {
      setSuggestions([]);
    }
  }

  const listId = `${id}-suggestions`;
  return (
    <div className="sql-editor">
      <label htmlFor={`${id}-text`}>{label}</label>
      <div className="sql-editor-box">
        <pre className="sql-mirror" aria-hidden="true" ref={mirror}>
          {tokenizeSql(value).map((t, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: tokens have no identity beyond their position
            <span key={i} className={`tok-${t.kind}`}>
              {t.text}
            </span>
          ))}
          {'\n'}
        </pre>
        <textarea
          id={`${id}-text`}
          ref={area}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={suggestions.length > 0 ? `${listId}-${active}` : undefined}
          spellCheck={false}
          value={value}
          rows={8}
          onChange={(e) => {
            onChange(e.target.value);
            setCursor(e.target.selectionStart);
          }}
          onSelect={(e) => setCursor(e.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          onScroll={(e) => {
            if (mirror.current) {
              mirror.current.scrollTop = e.currentTarget.scrollTop;
              mirror.current.scrollLeft = e.currentTarget.scrollLeft;
            }
          }}
        />
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the listbox pattern uses a list */}
      <ul id={listId} role="listbox" aria-label="Name completions" className="suggestions" hidden={suggestions.length === 0}>
        {suggestions.map((s, i) => (
          // biome-ignore lint/a11y/useFocusableInteractive: options are reached with aria-activedescendant from the textarea, which keeps focus
          <li
            key={s}
            id={`${listId}-${i}`}
            // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the listbox pattern uses list items as options
            role="option"
            aria-selected={i === active}
            className={i === active ? 'active' : undefined}
            onMouseDown={(e) => {
              e.preventDefault();
              accept(s);
            }}
          >
            {s}
          </li>
        ))}
      </ul>
      <p className="hint">
        <kbd>Ctrl</kbd>+<kbd>Enter</kbd> runs; <kbd>Tab</kbd> accepts a completion.
      </p>
    </div>
  );
}
