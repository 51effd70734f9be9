import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';

// ai_judge against a real HTTP judge on loopback whose grades depend on what it is asked.
describe('ai_judge', () => {
  let server: TestServer;
  let judge: Server;
  let c: pg.Client;
  const prompts: string[] = [];
  const requests: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    judge = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const request = JSON.parse(body) as { messages: Array<{ content: string }> };
        const prompt = request.messages[0]!.content;
        prompts.push(prompt);
        requests.push(request);
        const retried = prompt.includes('previous reply was not a valid grade');
        let content: string;
        if (prompt.includes('Answer: BROKEN')) content = 'I think it is fine';
        else if (prompt.includes('Answer: FLAKY') && !retried) content = '{"score": 7, "justification": "off the scale"}';
        else if (prompt.includes('Answer: FLAKY')) content = '{"score": 1, "justification": "partly right"}';
        else if (prompt.includes('Answer: Paris')) content = '{"score": 3, "justification": "correct and complete"}';
        else content = '{"score": 0, "justification": "wrong"}';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
      });
    });
    await new Promise<void>((r) => judge.listen(0, '127.0.0.1', r));
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('judge', 'openai:http://127.0.0.1:${(judge.address() as AddressInfo).port}/v1', endpoint_model => 'j')`);
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((r) => judge?.close(r));
  });

  it('grades answers with a score and a one-line justification, using the metric, context and examples', async () => {
    const r = await c.query(`SELECT a, g.score, g.justification, g.error FROM (
      SELECT a, ai_judge('judge', 'What is the capital of France?', a, metric => 'correctness', context => 'France is in Europe.',
        examples => [{'question': 'What is 2 + 2?', 'answer': '4', 'score': 3, 'justification': 'exact'}]) AS g
      FROM (VALUES ('Paris'), ('Lyon')) t(a)) ORDER BY a`);
    expect(r.rows).toEqual([
      { a: 'Lyon', score: 0, justification: 'wrong', error: null },
      { a: 'Paris', score: 3, justification: 'correct and complete', error: null },
    ]);
    const asked = prompts.find((p) => p.includes('Answer: Paris'))!;
    expect(asked).toContain('correctness');
    expect(asked).toContain('Context: France is in Europe.');
    expect(asked).toContain('Question: What is 2 + 2?');
    expect(asked).toContain('from 0 (not at all) to 3');
  });

  it('asks again when the grade is invalid, and reports a row it cannot grade instead of scoring it', async () => {
    prompts.length = 0;
    const r = await c.query(`SELECT a, g.score, g.justification, g.error
      FROM (SELECT a, ai_judge('judge', 'q?', a, metric => 'relevance') AS g FROM (VALUES ('FLAKY'), ('BROKEN')) t(a)) ORDER BY a`);
    expect(r.rows[0]).toMatchObject({ a: 'BROKEN', score: null, justification: null });
    expect(r.rows[0].error).toMatch(/no valid grade after 3 attempts/);
    expect(r.rows[1]).toEqual({ a: 'FLAKY', score: 1, justification: 'partly right', error: null });
    expect(prompts.filter((p) => p.includes('Answer: BROKEN'))).toHaveLength(3);
  });

  it('grades on a scale from min_score to scale with the model parameters given (the seeds\' 1-5 at temperature 0.1)', async () => {
    prompts.length = 0;
    requests.length = 0;
    const r = await c.query(`SELECT a, g.score, g.error FROM (
      SELECT a, ai_judge('judge', 'What is the capital of France?', a, scale => 5, min_score => 1, modelParameters => named_struct('temperature', 0.1, 'max_tokens', 64)) AS g
      FROM (VALUES ('Paris'), ('Lyon')) t(a)) ORDER BY a`);
    // The judge's 0 for Lyon is below the scale: asked again, then reported, never scored.
    expect(r.rows).toEqual([
      { a: 'Lyon', score: null, error: 'no valid grade after 3 attempts: the score must be an integer from 1 to 5' },
      { a: 'Paris', score: 3, error: null },
    ]);
    expect(prompts.find((p) => p.includes('Answer: Paris'))).toContain('from 1 (not at all) to 5 (completely)');
    expect(requests.every((q) => q['temperature'] === 0.1 && q['max_tokens'] === 64)).toBe(true);
    // Without modelParameters the judge answers at temperature 0.
    requests.length = 0;
    await c.query(`SELECT ai_judge('judge', 'q?', 'Paris')`);
    expect(requests[0]).toMatchObject({ temperature: 0 });
    await expect(c.query(`SELECT ai_judge('judge', 'q', 'a', scale => 5, min_score => 5)`)).rejects.toMatchObject({ code: '22023', message: expect.stringContaining('min_score must be an integer from 0 to 4') });
  });

  it('refuses unknown metrics and scales', async () => {
    await expect(c.query(`SELECT ai_judge('judge', 'q', 'a', metric => 'vibes')`)).rejects.toThrow(/unknown judge metric "vibes"/);
    await expect(c.query(`SELECT ai_judge('judge', 'q', 'a', scale => 0)`)).rejects.toThrow(/scale must be an integer/);
  });
});
