-- The AI functions as SQL, (re)created in the main schema whenever the engine opens the database. Each macro adapts named
-- arguments and types around an internal batch function (__ai_*) that calls the model runtime.
CREATE OR REPLACE MACRO ai_embed(model, text) AS __ai_embed(model, text);
-- responseFormat and __structure reach here as from_json structures: the session turns a literal
-- 'STRUCT<...>' or JSON schema into one, and passes the structure of the whole answer (DuckDB's
-- from_json needs it constant). Without them the answer is VARCHAR.
CREATE OR REPLACE MACRO ai_query(model, request, modelParameters := NULL, responseFormat := '"VARCHAR"', failOnError := true, __structure := '"VARCHAR"') AS
  from_json(__ai_query(model, request, CAST(to_json(modelParameters) AS VARCHAR), responseFormat, failOnError), __structure);
CREATE OR REPLACE MACRO ai_classify_scores(text, labels, model := 'classifier', multi_label := false, hypothesis_template := 'This example is {}.') AS
  from_json(__ai_classify(model, text, labels, multi_label, hypothesis_template), '{"labels":["VARCHAR"],"scores":["DOUBLE"]}');
CREATE OR REPLACE MACRO ai_classify(text, labels, model := 'classifier', multi_label := false, hypothesis_template := 'This example is {}.') AS
  CASE WHEN multi_label
    THEN array_to_string(list_filter(
           list_zip(ai_classify_scores(text, labels, model := model, multi_label := true, hypothesis_template := hypothesis_template).labels,
                    ai_classify_scores(text, labels, model := model, multi_label := true, hypothesis_template := hypothesis_template).scores),
           x -> x[2] > 0.5).apply(x -> x[1]), ',')
    ELSE ai_classify_scores(text, labels, model := model, multi_label := false, hypothesis_template := hypothesis_template).labels[1] END;
CREATE OR REPLACE MACRO ai_similarity(a, b, model := 'builtin:hash-embed-256') AS
  list_cosine_similarity(__ai_embed(model, a), __ai_embed(model, b));
CREATE OR REPLACE MACRO ai_summarize(text, max_words := 50, model := 'summarizer') AS
  ai_query(model, text, modelParameters := struct_pack(max_tokens := max_words * 2));
CREATE OR REPLACE MACRO ai_translate(text, to_lang, model := 'llm') AS
  ai_query(model, 'Translate the following text to ' || to_lang || '. Answer with the translation only.' || chr(10) || chr(10) || text);
CREATE OR REPLACE MACRO ai_analyze_sentiment(text, model := 'sentiment') AS
  ai_classify(text, ['positive', 'negative', 'neutral', 'mixed'], model := model, hypothesis_template := 'The sentiment of this text is {}.');
-- The entities' structure goes to the model as its response schema; the answer is a JSON object.
CREATE OR REPLACE MACRO ai_extract(text, labels, model := 'llm') AS
  CAST(__ai_query(model, 'Extract these entities from the text: ' || array_to_string(labels, ', ')
         || '. Answer with a JSON object with one key per entity and the entity found (or null) as its value.' || chr(10) || chr(10) || text,
       NULL, '{' || array_to_string(list_transform(labels, l -> to_json(l::VARCHAR) || ':"VARCHAR"'), ',') || '}', true) AS JSON);
-- An LLM grades an answer: {score (0..scale), justification, error}; an invalid grade is asked
-- again and then reported in error, never scored.
CREATE OR REPLACE MACRO ai_judge(model, question, answer, metric := 'correctness', context := NULL, scale := 3, examples := NULL) AS
  from_json(__ai_judge(model, metric, question, answer, context, scale, CAST(to_json(examples) AS VARCHAR)),
            '{"score":"INTEGER","justification":"VARCHAR","error":"VARCHAR"}');
