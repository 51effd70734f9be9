-- Chat fine-tuning end to end. A large model behind any OpenAI-compatible endpoint answers banking
-- questions (and declines the others) with structured output; its answers become chat examples;
-- train_lora teaches a small local Llama-family model to answer the same way without a system prompt;
-- the LLM judge grades the new version against the base on questions neither saw; `champion` moves
-- to the new version only if it scores better.
-- Run: psql -h 127.0.0.1 -p 5433 -U aiduck -d aiduck -f examples/chat-fine-tuning.sql \
--        -v endpoint=http://127.0.0.1:11434/v1 -v teacher=llama3.2 [-v models=<dir>]
-- The small model is the generated tiny-llama-chat (aiduck init); any Llama, Qwen2 or SmolLM
-- folder with safetensors weights works the same way (-v base=file:models/SmolLM2-135M-Instruct,
-- a folder under <data>/files).
-- Re-runnable: the base version is found by its alias `base`, the adapter this run trains gets the
-- alias `challenger`, and the script stops at the first error, so a run after a failed one trains
-- and judges its own adapter against the base, never a stale or missing version.
\set ON_ERROR_STOP on
\if :{?models}
\else
  \set models testmodels
\endif
\if :{?base}
\else
  \set base 'file:' :models '/tiny-llama-chat'
\endif
\if :{?endpoint}
\else
  \set endpoint http://127.0.0.1:11434/v1
\endif
\if :{?teacher}
\else
  \set teacher llama3.2
\endif

-- The base model, registered once with the alias `base` (again only if given another folder).
SELECT NOT EXISTS (SELECT 1 FROM ai.model_aliases a JOIN ai.model_versions v ON v.name = a.name AND v.version = a.version
                   WHERE a.name = 'bank_bot' AND a.alias = 'base' AND v.source = :'base') AS register_base \gset
\if :register_base
  SELECT name, version, task, provider FROM register_model('bank_bot', :'base', alias => 'base');
\endif
-- The teacher, registered when its latest version is not this endpoint and model: a re-run keeps
-- the version, and its answers come from the result cache.
SELECT NOT EXISTS (SELECT 1 FROM ai.models m JOIN ai.model_versions v ON v.name = m.name AND v.version = m.latest_version
                   WHERE m.name = 'teacher' AND v.source = 'openai:' || :'endpoint' AND v.endpoint_model = :'teacher') AS register_teacher \gset
\if :register_teacher
  SELECT name, version, task, provider FROM register_model('teacher', 'openai:' || :'endpoint', endpoint_model => :'teacher');
\endif

-- 1. Questions: banking topics the bot must answer, and other subjects it must decline. A stable
--    hash holds a fifth of them out for the evaluation at the end.
CREATE OR REPLACE TABLE bank_questions AS
WITH banking(topic) AS (VALUES ('account balance'), ('card'), ('loan rate'), ('transfer'), ('savings account'), ('overdraft fee'),
                               ('deposit'), ('branch hours'), ('statement'), ('card pin')),
     other(topic) AS (VALUES ('weather'), ('football match'), ('recipe for soup'), ('capital of France'), ('movie tonight'),
                             ('holiday trip'), ('train times'), ('garden plants'), ('music concert'), ('computer game')),
     forms(form) AS (VALUES ('How do I check my {}?'), ('Can you help me with my {}?'), ('I have a question about the {}.'),
                            ('What should I know about the {}?'), ('Tell me about the {} please.'), ('Where can I see the {}?'))
SELECT replace(form, '{}', topic) AS question, hash(form || topic) % 5 = 0 AS held_out
FROM (SELECT topic FROM banking UNION ALL SELECT topic FROM other), forms;

-- 2. The teacher answers every question, as typed data.
CREATE OR REPLACE TABLE teacher_answers AS
SELECT question, held_out,
       ai_query('teacher',
                'You are the assistant of a bank. Answer a banking question in one short sentence; '
                || 'decline any other subject in one short sentence. Question: ' || question,
                responseFormat => 'STRUCT<reply:STRING, in_scope:BOOLEAN>') AS answer
FROM bank_questions;

-- 3. One chat per row, in the messages format train_lora (and most fine-tuning tools) read.
CREATE OR REPLACE TABLE bank_chats AS
SELECT question, held_out, answer.reply AS reference,
       json_object('messages', json_array(json_object('role', 'user', 'content', question),
                                          json_object('role', 'assistant', 'content', answer.reply))) AS messages
FROM teacher_answers;

-- 4. What a run costs before spending the time: parameter counts from config.json alone.
SELECT trainable_params, total_params
FROM train_lora('bank_bot', 'bank_bot@base', 'bank_chats', r => 16, target_modules => 'all-linear', dry_run => true);

-- 5. Train: one row per epoch. The new adapter becomes the next version of bank_bot, `challenger`.
SELECT version, epoch, steps, round(train_loss, 3) AS train_loss, round(eval_loss, 3) AS eval_loss
FROM train_lora('bank_bot', 'bank_bot@base', 'SELECT messages FROM bank_chats WHERE NOT held_out',
                r => 16, lora_alpha => 32, lora_dropout => 0.0, target_modules => 'all-linear',
                epochs => 6, learning_rate => 0.004, batch_size => 8, warmup_ratio => 0.05, eval_fraction => 0.1, seed => 7,
                alias => 'challenger');
SELECT version AS tuned_version FROM ai.model_aliases WHERE name = 'bank_bot' AND alias = 'challenger' \gset
SELECT name, version, provider, base_model, training_run IS NOT NULL AS has_lineage
FROM ai.model_versions WHERE name = 'bank_bot' AND version = :tuned_version;

-- 6. Both versions answer the held-out questions; the judge grades each answer against the reference.
CREATE OR REPLACE TABLE judged AS
WITH answers AS (
  SELECT question, reference,
         ai_query('bank_bot@base', question, modelParameters => named_struct('max_tokens', 24)) AS base_answer,
         ai_query('bank_bot@challenger', question, modelParameters => named_struct('max_tokens', 24)) AS tuned_answer
  FROM bank_chats WHERE held_out
)
SELECT question, base_answer, tuned_answer,
       ai_judge('teacher', question, base_answer, metric => 'correctness', context => reference).score AS base_score,
       ai_judge('teacher', question, tuned_answer, metric => 'correctness', context => reference).score AS tuned_score
FROM answers;

SELECT count(*) AS questions, round(avg(base_score), 2) AS base_score, round(avg(tuned_score), 2) AS tuned_score FROM judged;
SELECT question, tuned_answer FROM judged ORDER BY question LIMIT 4;

-- 7. Promote the new version only if the judge prefers it.
SELECT avg(tuned_score) > avg(base_score) AS promote FROM judged \gset
\if :promote
  SELECT name, alias, version FROM set_model_alias('bank_bot', 'champion', :tuned_version);
\endif
SELECT name, version, aliases FROM ai.model_versions_with_aliases WHERE name = 'bank_bot' AND aliases IS NOT NULL ORDER BY version;
