/** @file `tg.nn`: modules, parameters, layers, losses and initialisers. */
export { type LoadResult, Module, type StateDict } from "./module.ts";
export { Parameter } from "./parameter.ts";
