/**
 * The JSON the console's HTTP API answers with: shared by the server (src/console) and the page
 * (console/src), which imports these types only.
 */

export interface ApiError {
  error: string;
  /** The SQLSTATE, when the error came from the engine. */
  code?: string;
  hint?: string;
  /** 1-based character position in the statement, for syntax errors. */
  position?: number;
}

export interface SessionInfo {
  authenticated: boolean;
  user: string | null;
  /** A login page is needed: the server was started with a password. */
  passwordRequired: boolean;
  version: string;
}

export interface ModelSummary {
  name: string;
  latestVersion: number;
  versions: number;
  aliases: Record<string, number>;
  task: string;
  provider: string;
  createdAt: string;
}

export interface ModelVersion {
  name: string;
  version: number;
  uri: string;
  task: string;
  provider: string;
  source: string;
  location: string;
  artifactDigest: string | null;
  endpointModel: string | null;
  apiKeyEnv: string | null;
  description: string | null;
  tags: Record<string, string>;
  /** The train_lora run that made this version. */
  trainingRun: string | null;
  dimension: number | null;
  /** For a LoRA adapter: the version it runs on (models:/name/version). */
  baseModel: string | null;
  options: Record<string, string>;
  createdAt: string;
  aliases: string[];
}

export interface TrainingRun {
  runId: string;
  name: string;
  version: number;
  baseModel: string;
  trainingData: string;
  trainingRows: number;
  evalData: string | null;
  evalRows: number | null;
  parameters: Record<string, unknown>;
  epochs: Array<Record<string, unknown>>;
  trainLoss: number | null;
  evalLoss: number | null;
  trainableParams: number;
  totalParams: number;
  startedAt: string;
  finishedAt: string;
}

export interface ModelsResponse {
  models: ModelSummary[];
  versions: ModelVersion[];
  trainingRuns: TrainingRun[];
}

export interface RunningJob {
  pid: number;
  function: string;
  model: string;
  rowsDone: number;
  rowsFromCache: number;
  rowsPerSecond: number;
  startedAt: string;
  updatedAt: string;
  /** Where a training job is (null for other jobs). */
  training: TrainingProgress | null;
}

export interface TrainingProgress {
  /** The run in ai.runs that records the training, and its experiment. */
  runId: string | null;
  experiment: string | null;
  epoch: number;
  step: number;
  totalSteps: number;
  /** The last step's loss. */
  loss: number;
}

export interface JobsResponse {
  jobs: RunningJob[];
  /** When the server read ai.running_jobs. */
  at: string;
}

export interface CancelResponse {
  /** False when the job had already ended. */
  cancelled: boolean;
}

export interface SqlColumn {
  name: string;
  typeOid: number;
}

/** One page of the SQL page's result, read from a cursor over the statement as typed. */
export interface SqlPage {
  /** Names this statement's result in the page requests that follow (a newer statement closes it). */
  resultId: number;
  columns: SqlColumn[];
  /** Values in PostgreSQL's text form, NULL as null. */
  rows: Array<Array<string | null>>;
  /** The 0-based row number of the first row. */
  offset: number;
  pageSize: number;
  /** The result has no rows after this page. */
  done: boolean;
  /** The number of rows, once the cursor has reached the end. */
  total: number | null;
  /** The command tag of a statement that returned no rows (CREATE, INSERT 3, …). */
  command: string | null;
  /** Time the server spent on this page. */
  elapsedMs: number;
}

export interface Experiment {
  name: string;
  createdAt: string;
  runs: number;
  /** Runs still going on. */
  running: number;
  lastStart: string | null;
}

export interface Run {
  runId: string;
  experiment: string;
  name: string | null;
  /** What recorded it: train_lora, fit_classifier, evaluate_retriever, log_run. */
  source: string;
  status: string;
  startTime: string;
  endTime: string | null;
  statement: string | null;
  modelName: string | null;
  modelVersion: number | null;
  /** Parameters as text (NULL when recorded without a value). */
  params: Record<string, string | null>;
  /** Each metric's value at its last step. */
  metrics: Record<string, number>;
  /** Why a failed or cancelled run stopped. */
  error: string | null;
}

export interface MetricPoint {
  runId: string;
  key: string;
  step: number;
  value: number;
}

/** The experiments of experiment tracking (ai.experiments), latest run first. */
export interface ExperimentsResponse {
  experiments: Experiment[];
}

export interface RunsResponse {
  runs: Run[];
  /** The experiment has more runs than the page lists (the latest are listed). */
  truncated: boolean;
}

export interface CurvesResponse {
  points: MetricPoint[];
  /** A curve had more points than are sent: every n-th point of it is (its first and last always). */
  thinned: boolean;
  /** More points exist than the console draws. */
  truncated: boolean;
}
