/** @file `tg.nn.utils` (PyTorch's `torch.nn.utils`): gradient clipping, implemented in optim/clip.ts. */
export { type ClipGradNormOptions, clipGradNorm, clipGradValue } from "../optim/clip.ts";
