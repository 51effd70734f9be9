import type { ChatMessage } from '../../src/runtime/provider.js';

/** The roles a chat request may give its turns (OpenAI's chat format, as endpoints and chat templates take them). */
const ROLES = new Set(['system', 'user', 'assistant']);

/** What an ai_query request is: a text, or a conversation for a chat model. */
export type Request = { text: string } | { messages: ChatMessage[] } | { invalid: string };

const SHAPE = "a text, or a list of chat messages such as array(named_struct('role', 'system', 'content', '...'), named_struct('role', 'user', 'content', '...'))";

function messagesOf(list: unknown[]): Request {
  if (list.length === 0) return { invalid: 'the list of chat messages is empty' };
  const messages: ChatMessage[] = [];
  for (const [i, m] of list.entries()) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return { invalid: `message ${i + 1} is not a STRUCT of role and content; the request must be ${SHAPE}` };
    const { role, content } = m as { role?: unknown; content?: unknown };
    const extra = Object.keys(m).filter((k) => k !== 'role' && k !== 'content');
    if (extra.length) return { invalid: `message ${i + 1} has fields besides role and content: ${extra.join(', ')}` };
    if (typeof role !== 'string' || !ROLES.has(role)) return { invalid: `message ${i + 1} has the role ${JSON.stringify(role ?? null)}; a role is system, user or assistant` };
    if (typeof content !== 'string') return { invalid: `message ${i + 1} (${role}) has no text content` };
    messages.push({ role, content });
  }
  return { messages };
}

/**
 * The request of one row, from the text or JSON the macro passes: a text as it is; a list of STRUCTs
 * of role and content (or a STRUCT with such a list as `messages`, the chat body endpoints take) as
 * a conversation. `kind` is the request's DuckDB type, as typeof() names it.
 */
export function readRequest(value: string, kind: string): Request {
  if (kind === 'VARCHAR') return { text: value };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { text: value };
  }
  if (typeof parsed === 'string' || typeof parsed === 'number' || typeof parsed === 'boolean') return { text: String(parsed) };
  if (Array.isArray(parsed)) return messagesOf(parsed);
  const messages = (parsed as { messages?: unknown } | null)?.messages;
  if (Array.isArray(messages) && Object.keys(parsed as object).length === 1) return messagesOf(messages);
  return { invalid: `the request (${kind}) is not ${SHAPE}` };
}
