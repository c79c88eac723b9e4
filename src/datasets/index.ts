/** @file `tg.datasets`: the embedded MNIST subset and the IDX file loader (Node). */
export { type ImageDataset, mnist } from "./mnist.ts";
export { loadIdx, parseIdx } from "./idx.ts";
