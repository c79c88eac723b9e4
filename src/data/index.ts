/** @file `tg.data`: datasets, the DataLoader, validation splits and transforms. */
export { collate, type Dataset, Subset, TensorDataset } from "./dataset.ts";
export { DataLoader, type DataLoaderOptions } from "./loader.ts";
export { type Fold, kFold, randomSplit, timeSeriesSplit } from "./splits.ts";
export * as transforms from "./transforms.ts";
