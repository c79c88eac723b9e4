/**
 * @file The optimizers' paths on a 2-D loss surface, computed with tensorgrad's own tg.optim (in the
 * Worker): f(x, y) = x²/20 + y² from (−7, 2), 30 steps each, with the learning rates of the
 * lectures' textbook (SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3; RMSProp 0.1): a long, flat
 * valley where SGD zig-zags and the adaptive methods head for the minimum.
 */
import * as tg from "../src/index.ts";

export interface Path {
  name: string;
  lr: number;
  points: [number, number][];
}

const SETUPS: [string, number, (p: tg.nn.Parameter[], lr: number) => tg.optim.Optimizer][] = [
  ["SGD", 0.95, (p, lr) => new tg.optim.SGD(p, { lr })],
  ["Momentum", 0.1, (p, lr) => new tg.optim.SGD(p, { lr, momentum: 0.9 })],
  ["AdaGrad", 1.5, (p, lr) => new tg.optim.Adagrad(p, { lr })],
  ["RMSProp", 0.1, (p, lr) => new tg.optim.RMSprop(p, { lr })],
  ["Adam", 0.3, (p, lr) => new tg.optim.Adam(p, { lr })],
];

export function optimizerPaths(steps = 30): Path[] {
  const scale = tg.tensor([1 / 20, 1]);
  return SETUPS.map(([name, lr, make]) => {
    const p = new tg.nn.Parameter(tg.tensor([-7, 2]));
    const opt = make([p], lr);
    const points: [number, number][] = [[-7, 2]];
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      p.mul(p).mul(scale).sum().backward();
      opt.step();
      const [x, y] = p.dataSync();
      points.push([x!, y!]);
    }
    return { name, lr, points };
  });
}
