import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { PostgreSQL, sql } from '@codemirror/lang-sql';
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useRef } from 'preact/hooks';

interface Props {
  /** The text it starts with; later changes come from the user. */
  initial: string;
  onChange: (text: string) => void;
  /** Ctrl+Enter (Cmd+Enter on a Mac). */
  onRun: () => void;
}

/** A CodeMirror editor with SQL highlighting (PostgreSQL's keywords), undo history and bracket matching. */
export function SqlEditor({ initial, onChange, onRun }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const handlers = useRef({ onChange, onRun });
  handlers.current = { onChange, onRun };
  useEffect(() => {
    const view = new EditorView({
      parent: holder.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          lineNumbers(), history(), drawSelection(), bracketMatching(), highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          sql({ dialect: PostgreSQL, upperCaseKeywords: true }),
          keymap.of([{ key: 'Mod-Enter', run: () => (handlers.current.onRun(), true) }, ...defaultKeymap, ...historyKeymap]),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) handlers.current.onChange(u.state.doc.toString());
          }),
          EditorView.contentAttributes.of({ 'aria-label': 'SQL statement' }),
          // CodeMirror adds its styles in a <style> element, which the page's Content-Security-Policy admits by this nonce.
          EditorView.cspNonce.of(document.querySelector('meta[name=csp-nonce]')?.getAttribute('content') ?? ''),
        ],
      }),
    });
    view.focus();
    return () => view.destroy();
  }, []);
  return <div class="sql-editor" ref={holder} />;
}
