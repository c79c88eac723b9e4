/**
 * @file ONNX's recurrent layers (RNN, GRU, LSTM; forward, reverse and bidirectional, either
 * layout, clip, peepholes) unrolled over the sequence with tensorgrad's matmul and activations,
 * so that backpropagation through time comes from the ordinary gradient rules. The input
 * projection of every step is one matmul up front; each step adds the recurrent one.
 */
import * as ops from "../../ops/index.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { type Attrs, numbers, type OpRule, req } from "./attrs.ts";

type Act = (x: Tensor) => Tensor;

function activation(name: string, alpha: number | undefined, beta: number | undefined): Act {
  switch (name.toLowerCase()) {
    case "sigmoid":
      return ops.sigmoid;
    case "tanh":
      return ops.tanh;
    case "relu":
      return ops.relu;
    case "leakyrelu":
      return (x) => ops.leakyRelu(x, alpha ?? 0.01);
    case "hardsigmoid":
      return (x) => x.mul(alpha ?? 0.2).add(beta ?? 0.5).clamp(0, 1);
    case "affine":
      return (x) => x.mul(alpha ?? 1).add(beta ?? 0);
    case "scaledtanh":
      return (x) => x.mul(beta ?? 1).tanh().mul(alpha ?? 1);
    case "softsign":
      return (x) => x.div(x.abs().add(1));
    default:
      throw new Error(`activation "${name}" is not supported`);
  }
}

/** One direction's cell: given the step's input projection and the state, the new state (h first). */
type Cell = (xw: Tensor, state: Tensor[], d: DirectionWeights) => Tensor[];

interface DirectionWeights {
  r: Tensor; // [G·hidden, hidden]
  rb: Tensor | null; // [G·hidden]
  p: Tensor | null; // LSTM peepholes [3·hidden]
  acts: Act[];
  clip: (x: Tensor) => Tensor;
  hidden: number;
}

const chunks = (t: Tensor, n: number) => t.chunk(n, -1);
const recurrent = (h: Tensor, d: DirectionWeights) => {
  const y = h.matmul(d.r.t());
  return d.rb === null ? y : y.add(d.rb);
};

const rnnCell: Cell = (xw, [h], d) => [d.acts[0]!(d.clip(xw.add(recurrent(h!, d))))];

function gruCell(linearBeforeReset: boolean): Cell {
  return (xw, [h], d) => {
    const [xz, xr, xh] = chunks(xw, 3) as [Tensor, Tensor, Tensor];
    const hr = recurrent(h!, d);
    const [rz, rr, rh] = chunks(hr, 3) as [Tensor, Tensor, Tensor];
    const [f, g] = [d.acts[0]!, d.acts[1]!];
    const z = f(d.clip(xz.add(rz)));
    const r = f(d.clip(xr.add(rr)));
    let cand: Tensor;
    if (linearBeforeReset) cand = xh.add(r.mul(rh));
    else {
      const n = d.hidden;
      const rhW = d.r.narrow(0, 2 * n, n);
      cand = xh.add(r.mul(h!).matmul(rhW.t()));
      if (d.rb !== null) cand = cand.add(d.rb.narrow(0, 2 * n, n));
    }
    const hh = g(d.clip(cand));
    return [ops.sub(1, z).mul(hh).add(z.mul(h!))];
  };
}

function lstmCell(inputForget: boolean): Cell {
  return (xw, [h, c], d) => {
    const gates = xw.add(recurrent(h!, d));
    const [gi, go, gf, gc] = chunks(gates, 4) as [Tensor, Tensor, Tensor, Tensor];
    const [pi, po, pf] = d.p === null ? [null, null, null] : (chunks(d.p, 3) as [Tensor, Tensor, Tensor]);
    const [f, g, hAct] = [d.acts[0]!, d.acts[1]!, d.acts[2]!];
    const i = f(d.clip(pi === null ? gi : gi.add(pi.mul(c!))));
    const ft = inputForget ? ops.sub(1, i) : f(d.clip(pf === null ? gf : gf.add(pf.mul(c!))));
    const cNew = ft.mul(c!).add(i.mul(g(d.clip(gc))));
    const o = f(d.clip(po === null ? go : go.add(po.mul(cNew))));
    return [o.mul(hAct(cNew)), cNew];
  };
}

/** The shared driver: parses inputs and attributes, runs each direction over the sequence, stacks the outputs. */
function recurrentOp(kind: "RNN" | "GRU" | "LSTM"): OpRule {
  const gatesPer = { RNN: 1, GRU: 3, LSTM: 4 }[kind];
  const defaults = { RNN: ["Tanh"], GRU: ["Sigmoid", "Tanh"], LSTM: ["Sigmoid", "Tanh", "Tanh"] }[kind];
  return (x, a: Attrs) => {
    const layout = a.int("layout", 0);
    let input = req(x, 0);
    if (layout === 1) input = input.transpose(0, 1); // → [seq, batch, input]
    const [W, R] = [req(x, 1), req(x, 2)];
    const B = x[3];
    const dirs = W.shape[0]!;
    const direction = a.string("direction", "forward");
    if ((direction === "bidirectional") !== (dirs === 2)) throw new Error(`direction "${direction}" does not match W's ${dirs} direction(s)`);
    const hidden = a.int("hidden_size") ?? R.shape[2]!;
    const [seq, batch] = [input.shape[0]!, input.shape[1]!];
    if (x[4] !== undefined && numbers(x[4], "sequence_lens").some((l) => l !== seq))
      throw new Error("sequence_lens shorter than the sequence are not supported (every sequence must have the full length)");
    const initial = (i: number) => {
      const t = x[i];
      if (t === undefined) return null;
      return layout === 1 ? t.transpose(0, 1) : t; // → [dirs, batch, hidden]
    };
    const [h0, c0] = [initial(5), kind === "LSTM" ? initial(6) : null];
    const names = a.strings("activations") ?? [];
    const alphas = a.floats("activation_alpha") ?? [];
    const betas = a.floats("activation_beta") ?? [];
    const clipAt = a.float("clip", Number.POSITIVE_INFINITY);
    const clip = Number.isFinite(clipAt) ? (t: Tensor) => t.clamp(-clipAt, clipAt) : (t: Tensor) => t;
    const cell =
      kind === "RNN" ? rnnCell : kind === "GRU" ? gruCell(a.int("linear_before_reset", 0) !== 0) : lstmCell(a.int("input_forget", 0) !== 0);
    const ys: Tensor[] = [];
    const finals: Tensor[][] = [];
    for (let d = 0; d < dirs; d++) {
      const per = defaults.length;
      const acts = defaults.map((dflt, k) => activation(names[d * per + k] ?? dflt, alphas[d * per + k], betas[d * per + k]));
      const g = gatesPer * hidden;
      const bias = B === undefined ? null : B.index(d);
      const weights: DirectionWeights = {
        r: R.index(d),
        rb: bias === null ? null : bias.narrow(0, g, g),
        p: kind === "LSTM" && x[7] !== undefined ? x[7].index(d) : null,
        acts,
        clip,
        hidden,
      };
      let xw = input.matmul(W.index(d).t()); // [seq, batch, G·hidden]
      if (bias !== null) xw = xw.add(bias.narrow(0, 0, g));
      const zeros = ops.zeros([batch, hidden], { dtype: input.dtype });
      let state = [h0 === null ? zeros : h0.index(d), ...(kind === "LSTM" ? [c0 === null ? zeros : c0.index(d)] : [])];
      const reverse = direction === "reverse" || d === 1;
      const outs: Tensor[] = new Array(seq);
      for (let s = 0; s < seq; s++) {
        const t = reverse ? seq - 1 - s : s;
        state = cell(xw.index(t), state, weights);
        outs[t] = state[0]!;
      }
      ys.push(seq === 0 ? ops.zeros([0, batch, hidden], { dtype: input.dtype }) : ops.stack(outs, 0));
      finals.push(state);
    }
    let y = ops.stack(ys, 1); // [seq, dirs, batch, hidden]
    let yh = ops.stack(finals.map((f) => f[0]!), 0); // [dirs, batch, hidden]
    let yc = kind === "LSTM" ? ops.stack(finals.map((f) => f[1]!), 0) : undefined;
    if (layout === 1) {
      y = y.permute([2, 0, 1, 3]);
      yh = yh.transpose(0, 1);
      yc = yc?.transpose(0, 1);
    }
    return [y, yh, yc];
  };
}

export const RNN_OPS: Record<string, OpRule> = {
  RNN: recurrentOp("RNN"),
  GRU: recurrentOp("GRU"),
  LSTM: recurrentOp("LSTM"),
};
