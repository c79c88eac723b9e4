/**
 * @file `tg.train`: the training loop (fit / evaluate / predict on any nn.Module), metrics, the
 * History, callbacks, the progress display and checkpoints for exact resumption.
 */
export * as callbacks from "./callbacks.ts";
export type { Callback, EarlyStopping, EarlyStoppingOptions, ModelCheckpointOptions, LrSchedule, TerminateOnNaN, TrainContext } from "./callbacks.ts";
export { type CheckpointTargets, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
export { History, type Logs } from "./history.ts";
export { evaluate, type FitOptions, fit, predict, type TrainingSpec } from "./loop.ts";
export * as metrics from "./metrics.ts";
export type { Metric, MetricLike } from "./metrics.ts";
export { formatLogs, ProgressDisplay, type ProgressStream } from "./progress.ts";
