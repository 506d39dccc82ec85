import { type KeyboardEvent, useId, useLayoutEffect, useRef, useState } from 'react';
import { applySuggestion, type FilterKeys, type Suggestion, suggest } from './filter-suggest.ts';

/** Props of the filter box. */
export interface FilterBoxProps {
  value: string;
  keys: FilterKeys;
  onSubmit(filter: string): void;
  /** Start with the suggestion list open at this cursor (tests render it without a browser). */
  initialCursor?: number;
}

/** An MLflow filter input (`metrics.loss < 0.3 and params.lr = '0.1'`) that suggests metric, param and tag keys as you type. */
export function FilterBox(props: FilterBoxProps) {
  const [text, setText] = useState(props.value);
  const [cursor, setCursor] = useState(props.initialCursor ?? -1);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(props.initialCursor !== undefined);
  const input = useRef<HTMLInputElement>(null);
  // Where the caret goes after an accepted suggestion. Applied in a layout effect, i.e. right after React writes the
  // new value and before the next keystroke is handled; a later frame would move the caret under a fast typist.
  const pendingCaret = useRef<number | null>(null);
  useLayoutEffect(() => {
    if (pendingCaret.current !== null && input.current) {
      input.current.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = null;
    }
  });
  const listId = useId();
  const hintId = useId();
  const suggestions: Suggestion[] = open && cursor >= 0 ? suggest(text, cursor, props.keys) : [];

  function choose(s: Suggestion) {
    const next = applySuggestion(text, cursor, s);
    setText(next.text);
    setCursor(next.cursor);
    setOpen(false);
    pendingCaret.current = next.cursor;
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (suggestions.length > 0 && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length);
    } else if (suggestions.length > 0 && (e.key === 'Tab' || e.key === 'Enter') && suggestions[active]) {
      e.preventDefault();
      choose(suggestions[active] as Suggestion);
    } else if (e.key === 'Escape') {
      setOpen(false);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      props.onSubmit(text.trim());
    }
  }

  return (
    <form
      className="filter-box"
      aria-label="Filter runs"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit(text.trim());
      }}
    >
      <label htmlFor={`${listId}-input`}>Filter runs</label>
      <div className="combo">
        <input
          id={`${listId}-input`}
          ref={input}
          type="text"
          role="combobox"
          aria-expanded={suggestions.length > 0}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-describedby={hintId}
          aria-activedescendant={suggestions.length > 0 ? `${listId}-${active}` : undefined}
          autoComplete="off"
          spellCheck={false}
          placeholder="metrics.loss < 0.3 and params.lr = '0.01'"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setCursor(e.target.selectionStart ?? e.target.value.length);
            setActive(0);
            setOpen(true);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
        />
        {suggestions.length > 0 ? (
          // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the listbox pattern uses a list
          <ul id={listId} role="listbox" className="suggestions" aria-label="Filter suggestions">
            {suggestions.map((s, i) => (
              // biome-ignore lint/a11y/useFocusableInteractive: options are reached with aria-activedescendant from the input, which keeps focus
              <li
                key={s.label}
                id={`${listId}-${i}`}
                // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the listbox pattern uses list items as options
                role="option"
                aria-selected={i === active}
                className={i === active ? 'active' : undefined}
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(s);
                }}
              >
                {s.label}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <button type="submit">Apply</button>
      <span id={hintId} className="hint">
        MLflow syntax; keys from the loaded runs are suggested as you type. Use <kbd>Tab</kbd> to accept.
      </span>
    </form>
  );
}
