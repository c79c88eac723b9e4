/** @file `tg.datasets`: the embedded MNIST subset, Fisher's Iris, and the IDX file loader (Node). */
export { type ImageDataset, mnist } from "./mnist.ts";
export { iris, type TabularDataset } from "./iris.ts";
export { loadIdx, parseIdx } from "./idx.ts";
