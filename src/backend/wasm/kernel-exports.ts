/** @file The TypeScript view of the kernel module's exports, one signature per AssemblyScript entry point (assembly/index.ts). */

/** The kernel module's exports (byte addresses and element strides; see assembly/*.ts). */
export interface KernelExports {
  sgemm(
    M: number,
    N: number,
    K: number,
    a: number,
    sam: number,
    sak: number,
    b: number,
    sbk: number,
    sbn: number,
    c: number,
    ldc: number,
    ws: number,
  ): void;
  sgemmBatched(
    batch: number,
    M: number,
    N: number,
    K: number,
    a: number,
    sab: number,
    sam: number,
    sak: number,
    b: number,
    sbb: number,
    sbk: number,
    sbn: number,
    c: number,
    scb: number,
    ldc: number,
    ws: number,
  ): void;
  sgemmWorkspaceBytes(): number;
  unaryF32(
    op: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    x: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    out: number,
  ): void;
  binaryF32(
    op: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    a: number,
    sa0: number,
    sa1: number,
    sa2: number,
    sa3: number,
    b: number,
    sb0: number,
    sb1: number,
    sb2: number,
    sb3: number,
    out: number,
  ): void;
  copyToF32(
    type: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    x: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    out: number,
  ): void;
  whereF32(
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    c: number,
    sc0: number,
    sc1: number,
    sc2: number,
    sc3: number,
    a: number,
    sa0: number,
    sa1: number,
    sa2: number,
    sa3: number,
    b: number,
    sb0: number,
    sb1: number,
    sb2: number,
    sb3: number,
    out: number,
  ): void;
  /** One Adam step in place (assembly/elementwise.ts); h: 9 float64 hyperparameters. */
  adamF32(n: number, w: number, g: number, m: number, v: number, vMax: number, h: number): void;
  reduceF32(
    op: number,
    nk0: number,
    nk1: number,
    sk0: number,
    sk1: number,
    nr0: number,
    nr1: number,
    sr0: number,
    sr1: number,
    x: number,
    out: number,
  ): void;
  im2colF32(
    N: number,
    C: number,
    H: number,
    W: number,
    sn: number,
    sc: number,
    sh: number,
    sw: number,
    x: number,
    geo: number,
    out: number,
  ): void;
  col2imF32(N: number, C: number, H: number, W: number, sn: number, sr: number, sl: number, cols: number, geo: number, out: number): void;
  maxPool2dF32(
    N: number,
    C: number,
    H: number,
    W: number,
    sn: number,
    sc: number,
    sh: number,
    sw: number,
    x: number,
    geo: number,
    values: number,
    indices: number,
  ): void;
  maxPool2dBackwardF32(
    N: number,
    C: number,
    Ho: number,
    Wo: number,
    H: number,
    W: number,
    g: number,
    gn: number,
    gc: number,
    gh: number,
    gw: number,
    indices: number,
    in_: number,
    ic: number,
    ih: number,
    iw: number,
    out: number,
  ): void;
  /** Fused convolution (assembly/conv.ts); `p`: the call's int32 parameters. */
  conv2dScratchBytes(p: number): number;
  conv2dF32(nn: number, p: number, x: number, w: number, bias: number, sb: number, out: number, scratch: number): void;
  conv2dBackwardInputF32(nn: number, p: number, g: number, w: number, out: number, scratch: number): void;
  conv2dBackwardWeightF32(nn: number, p: number, x: number, g: number, dw: number, db: number, scratch: number): void;
  conv2dSumPartsF32(p: number, parts: number, src: number, dst: number): void;
  /** Conv2d → ReLU → MaxPool2d (non-overlapping windows) in one pass per sample, and its gradients from the pooled gradient. */
  conv2dReluPoolF32(nn: number, p: number, x: number, w: number, bias: number, sb: number, values: number, indices: number, scratch: number): void;
  conv2dPoolBackwardInputF32(nn: number, n0: number, p: number, g: number, idx: number, pv: number, w: number, out: number, scratch: number): void;
  conv2dPoolBackwardWeightF32(nn: number, n0: number, p: number, x: number, g: number, idx: number, pv: number, dw: number, db: number, scratch: number): void;
}
