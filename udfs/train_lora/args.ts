/**
 * train_lora's SQL arguments: defaults (PEFT's and Hugging Face Trainer's, where they have one) and
 * range checks, each refused with a message naming the argument.
 */
import { SqlError } from '../../src/errors/sql-error.js';
import type { LlamaConfig } from '../../src/llm/llama-config.js';
import { resolveTargetModules } from '../../src/llm/param-count.js';
import type { TrainParameters } from '../../src/llm/trainer.js';

export interface TrainLoraArgs {
  name: string | null;
  base_model: string | null;
  training_data: string | null;
  r: number | null;
  lora_alpha: number | null;
  lora_dropout: number | null;
  /** JSON: a list of module names, or the string 'all-linear'. */
  target_modules: string | null;
  epochs: number | null;
  learning_rate: number | null;
  batch_size: number | null;
  gradient_accumulation_steps: number | null;
  max_seq_length: number | null;
  warmup_ratio: number | null;
  warmup_steps: number | null;
  weight_decay: number | null;
  max_grad_norm: number | null;
  seed: number | null;
  eval_data: string | null;
  eval_fraction: number | null;
  dry_run: boolean | null;
  alias: string | null;
  description: string | null;
  /** The experiment the run is recorded in (default: the model's name). */
  experiment: string | null;
  /** The run's name in ai.runs. */
  run_name: string | null;
}

/** The macro signature: every parameter a user can name, with its default. */
export const TRAIN_LORA_SIGNATURE = [
  'name', 'base_model', 'training_data', 'r INTEGER := 8', 'lora_alpha := 16', 'lora_dropout := 0.05', "target_modules := ['q_proj', 'v_proj']",
  'epochs INTEGER := 3', 'learning_rate := 0.0002', 'batch_size INTEGER := 8', 'gradient_accumulation_steps INTEGER := 1', 'max_seq_length INTEGER := 512',
  'warmup_ratio := 0.0', 'warmup_steps INTEGER := NULL', 'weight_decay := 0.0', 'max_grad_norm := 1.0', 'seed INTEGER := 42',
  'eval_data := NULL', 'eval_fraction := 0.0', 'dry_run := false', 'alias := NULL', 'description := NULL', 'experiment := NULL',
  'run_name := NULL',
].join(', ');

export const TRAIN_LORA_STRUCT = `struct_pack(name := name::VARCHAR, base_model := base_model::VARCHAR, training_data := training_data::VARCHAR,
  r := r::DOUBLE, lora_alpha := lora_alpha::DOUBLE, lora_dropout := lora_dropout::DOUBLE, target_modules := to_json(target_modules)::VARCHAR,
  epochs := epochs::DOUBLE, learning_rate := learning_rate::DOUBLE, batch_size := batch_size::DOUBLE,
  gradient_accumulation_steps := gradient_accumulation_steps::DOUBLE, max_seq_length := max_seq_length::DOUBLE,
  warmup_ratio := warmup_ratio::DOUBLE, warmup_steps := warmup_steps::DOUBLE, weight_decay := weight_decay::DOUBLE,
  max_grad_norm := max_grad_norm::DOUBLE, seed := seed::DOUBLE, eval_data := eval_data::VARCHAR, eval_fraction := eval_fraction::DOUBLE,
  dry_run := dry_run::BOOLEAN, alias := alias::VARCHAR, description := description::VARCHAR, experiment := experiment::VARCHAR,
  run_name := run_name::VARCHAR)`;

function check(value: number | null, name: string, ok: (v: number) => boolean, what: string): number {
  if (value === null || !Number.isFinite(value) || !ok(value)) throw new SqlError('22023', `train_lora: ${name} must be ${what}, not ${value}`);
  return value;
}

const integer = (value: number | null, name: string, min: number, max: number): number =>
  check(value, name, (v) => Number.isInteger(v) && v >= min && v <= max, `an integer from ${min} to ${max}`);

function targetModulesOf(json: string | null): string[] | 'all-linear' {
  const value: unknown = json === null ? null : JSON.parse(json);
  if (value === 'all-linear') return 'all-linear';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  // A text list, as a Postgres driver sends an array parameter ('{q_proj,v_proj}') or as written by hand ('q_proj,v_proj').
  if (typeof value === 'string' && value.trim() !== '') return value.trim().replace(/^\{(.*)\}$/, '$1').split(',').map((m) => m.trim().replace(/^"(.*)"$/, '$1'));
  throw new SqlError('22023', "train_lora: target_modules must be a list of module names (['q_proj', 'v_proj']) or 'all-linear'");
}

export interface CheckedTrainArgs {
  params: TrainParameters;
  maxSeqLength: number;
  evalFraction: number;
}

/** Checks every training argument against its range and the base model's config. */
export function checkTrainArgs(a: TrainLoraArgs, config: LlamaConfig): CheckedTrainArgs {
  const r = integer(a.r, 'r', 1, 4096);
  const maxSeqLength = integer(a.max_seq_length, 'max_seq_length', 2, config.maxPositionEmbeddings);
  const evalFraction = check(a.eval_fraction, 'eval_fraction', (v) => v >= 0 && v < 1, 'at least 0 and below 1');
  if (a.eval_data !== null && evalFraction > 0) throw new SqlError('22023', 'train_lora: give eval_data or eval_fraction, not both');
  return {
    maxSeqLength,
    evalFraction,
    params: {
      lora: {
        r,
        alpha: check(a.lora_alpha, 'lora_alpha', (v) => v > 0, 'a positive number'),
        dropout: check(a.lora_dropout, 'lora_dropout', (v) => v >= 0 && v < 1, 'at least 0 and below 1'),
        targetModules: resolveTargetModules(config, targetModulesOf(a.target_modules)),
      },
      epochs: integer(a.epochs, 'epochs', 1, 10_000),
      learningRate: check(a.learning_rate, 'learning_rate', (v) => v > 0 && v <= 1, 'above 0 and at most 1'),
      batchSize: integer(a.batch_size, 'batch_size', 1, 4096),
      gradientAccumulationSteps: integer(a.gradient_accumulation_steps, 'gradient_accumulation_steps', 1, 4096),
      warmupSteps: a.warmup_steps === null ? null : integer(a.warmup_steps, 'warmup_steps', 0, 1e9),
      warmupRatio: check(a.warmup_ratio, 'warmup_ratio', (v) => v >= 0 && v <= 1, 'from 0 to 1'),
      weightDecay: check(a.weight_decay, 'weight_decay', (v) => v >= 0, 'at least 0'),
      maxGradNorm: check(a.max_grad_norm, 'max_grad_norm', (v) => v > 0, 'a positive number'),
      seed: integer(a.seed, 'seed', 0, 2 ** 31 - 1),
    },
  };
}

/** The parameters as recorded with the run (ai.runs, ai.training_runs): the SQL names, defaults filled in. */
export function recordedParameters(c: CheckedTrainArgs, a: TrainLoraArgs): Record<string, unknown> {
  const p = c.params;
  return {
    r: p.lora.r, lora_alpha: p.lora.alpha, lora_dropout: p.lora.dropout, target_modules: p.lora.targetModules,
    epochs: p.epochs, learning_rate: p.learningRate, batch_size: p.batchSize, gradient_accumulation_steps: p.gradientAccumulationSteps,
    max_seq_length: c.maxSeqLength, warmup_ratio: p.warmupRatio, warmup_steps: p.warmupSteps, weight_decay: p.weightDecay,
    max_grad_norm: p.maxGradNorm, seed: p.seed, eval_data: a.eval_data, eval_fraction: c.evalFraction,
  };
}
