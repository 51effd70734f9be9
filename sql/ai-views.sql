-- The registry's and the runs' views, (re)created when the engine opens the database, after the
-- tables of ai-schema.sql. What they show is what the SQL functions resolve: ai.models' champion is
-- the version `ai_query('name', ...)` uses.
CREATE OR REPLACE VIEW ai.models AS
  SELECT v.name,
         max(v.version) AS latest_version,
         count(*) AS versions,
         (SELECT map_from_entries(list((a.alias, a.version) ORDER BY a.alias)) FROM ai.model_aliases a WHERE a.name = v.name) AS aliases,
         arg_max(v.task, v.version) AS task,
         arg_max(v.provider, v.version) AS provider,
         (SELECT map_from_entries(list((t.key, t.value) ORDER BY t.key)) FROM ai.model_tags t WHERE t.name = v.name) AS tags,
         (SELECT d.description FROM ai.model_descriptions d WHERE d.name = v.name) AS description,
         min(v.created_at) AS created_at
  FROM ai.model_versions v GROUP BY v.name;
CREATE OR REPLACE VIEW ai.model_versions_with_aliases AS
  SELECT v.*, (SELECT list(a.alias ORDER BY a.alias) FROM ai.model_aliases a WHERE a.name = v.name AND a.version = v.version) AS aliases
  FROM ai.model_versions v;
-- A run with its parameters and its latest metrics (the value at the last step of each key) as maps,
-- for plain SQL search: WHERE experiment = 'rag' ORDER BY metrics['ndcg_at_3'] DESC.
CREATE OR REPLACE VIEW ai.runs AS
  SELECT r.run_id, r.experiment, r.name, r.source, r.status, r.start_time, r.end_time, r.statement, r.model_name, r.model_version,
         coalesce((SELECT map_from_entries(list((p.key, p.value) ORDER BY p.key)) FROM ai.run_params p WHERE p.run_id = r.run_id), MAP {}) AS params,
         coalesce((SELECT map_from_entries(list((m.key, m.value) ORDER BY m.key))
                   FROM (SELECT key, arg_max(value, step) AS value FROM ai.run_metrics m WHERE m.run_id = r.run_id GROUP BY key) m), MAP {}) AS metrics,
         r.error
  FROM ai.run_records r;
-- train_lora's runs as the table of that name showed them before runs were tracked: one row per
-- finished run, its lineage, parameters, per-epoch metrics and final losses.
CREATE OR REPLACE VIEW ai.training_runs AS
  SELECT r.run_id, r.model_name AS name, r.model_version AS version, r.params['base_model'] AS base_model,
         r.params['training_data'] AS training_data, CAST(r.params['training_rows'] AS INTEGER) AS training_rows,
         r.params['eval_data'] AS eval_data, CAST(r.params['eval_rows'] AS INTEGER) AS eval_rows, r.params['data_digest'] AS data_digest,
         (SELECT json_group_object(p.key, CASE WHEN json_valid(p.value) THEN CAST(p.value AS JSON) ELSE to_json(p.value) END) FROM ai.run_params p
          WHERE p.run_id = r.run_id AND p.key NOT IN ('base_model', 'training_data', 'training_rows', 'eval_rows', 'data_digest', 'trainable_params', 'total_params')) AS parameters,
         (SELECT to_json(list({'epoch': e.step, 'steps': CAST(s.value AS INTEGER), 'train_loss': e.value, 'eval_loss': v.value,
                               'tokens_per_second': t.value, 'elapsed_seconds': x.value} ORDER BY e.step))
          FROM ai.run_metrics e
          LEFT JOIN ai.run_metrics s ON s.run_id = e.run_id AND s.key = 'epoch_steps' AND s.step = e.step
          LEFT JOIN ai.run_metrics v ON v.run_id = e.run_id AND v.key = 'epoch_eval_loss' AND v.step = e.step
          LEFT JOIN ai.run_metrics t ON t.run_id = e.run_id AND t.key = 'tokens_per_second' AND t.step = e.step
          LEFT JOIN ai.run_metrics x ON x.run_id = e.run_id AND x.key = 'elapsed_seconds' AND x.step = e.step
          WHERE e.run_id = r.run_id AND e.key = 'epoch_train_loss') AS epochs,
         r.metrics['epoch_train_loss'] AS train_loss, r.metrics['epoch_eval_loss'] AS eval_loss,
         CAST(r.params['trainable_params'] AS BIGINT) AS trainable_params, CAST(r.params['total_params'] AS BIGINT) AS total_params,
         r.start_time AS started_at, r.end_time AS finished_at
  FROM ai.runs r WHERE r.source = 'train_lora' AND r.status = 'finished';
