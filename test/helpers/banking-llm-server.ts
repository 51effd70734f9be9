/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 playing the large model of the chat fine-tuning
 * flow: a teacher that answers banking questions with structured output (a reply, and whether the
 * question is about banking) and a judge that grades an answer against the teacher's reference.
 * Its rules are plain so tests can tell what a trained model should have learnt.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const IN_SCOPE_REPLY = 'Sure, I can help with that in the app.';
export const OUT_OF_SCOPE_REPLY = 'Sorry, I can only help with banking.';

const BANKING_WORDS = ['account', 'balance', 'card', 'loan', 'transfer', 'savings', 'fee', 'rate', 'deposit', 'branch', 'statement', 'overdraft', 'pin'];

export const isBankingQuestion = (q: string): boolean => BANKING_WORDS.some((w) => q.toLowerCase().includes(w));
export const teacherReply = (q: string): string => (isBankingQuestion(q) ? IN_SCOPE_REPLY : OUT_OF_SCOPE_REPLY);

/** The question a prompt carries: the text after the last "Question:", else the whole prompt. */
function questionOf(prompt: string): string {
  const at = prompt.lastIndexOf('Question:');
  return (at >= 0 ? prompt.slice(at + 'Question:'.length).split('\n')[0]! : prompt).trim();
}

function field(prompt: string, name: string): string {
  const m = new RegExp(`^${name}: (.*)$`, 'm').exec(prompt.slice(prompt.lastIndexOf('Now grade:')));
  return (m?.[1] ?? '').trim();
}

/** 3 for the reference reply word for word, 1 when only its first word matches, else 0. */
function grade(prompt: string): { score: number; justification: string } {
  const answer = field(prompt, 'Answer');
  const reference = field(prompt, 'Context');
  if (answer === reference) return { score: 3, justification: 'matches the reference reply' };
  if (answer.split(' ')[0] === reference.split(' ')[0]) return { score: 1, justification: 'starts like the reference reply' };
  return { score: 0, justification: 'not the reference reply' };
}

export interface BankingLlm {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function startBankingLlm(): Promise<BankingLlm> {
  const state = { requests: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages?: Array<{ content: string }>; response_format?: { type?: string } };
      const prompt = body.messages?.at(-1)?.content ?? '';
      let content: string;
      if (prompt.startsWith('You grade answers')) content = JSON.stringify(grade(prompt));
      else {
        const question = questionOf(prompt);
        const reply = { reply: teacherReply(question), in_scope: isBankingQuestion(question) };
        content = body.response_format?.type === 'json_schema' ? JSON.stringify(reply) : reply.reply;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `chatcmpl-${state.requests}`, object: 'chat.completion', created: 0, model: 'banking-llm',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
