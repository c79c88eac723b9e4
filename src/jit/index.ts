/** @file `tg.jit` (PyTorch's `torch.jit`): freezing a model for fast inference. */
export { FrozenModule, freeze } from "./freeze.ts";
