/** @file `tg.linalg`: the dense linear algebra of the lectures' closed-form regression. */
export { linalgInv as inv, linalgLstsq as lstsq, linalgSolve as solve } from "./linalg.ts";
