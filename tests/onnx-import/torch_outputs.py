#!/usr/bin/python3
"""Runs one of tests/golden/generate_onnx_import.py's PyTorch models with weights from a safetensors file.

usage: torch_outputs.py NAME WEIGHTS.safetensors INPUT.json   (INPUT.json: {"shape": [...], "data": [...]})
Prints {"shape": [...], "data": [...]}: the eval-mode output. The safetensors file is read here
(header JSON + little-endian float32 data) so that only torch is needed.
"""

import importlib.util
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gen", os.path.join(HERE, "..", "golden", "generate_onnx_import.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        start, end = info["data_offsets"]
        data = bytearray(raw[8 + n + start : 8 + n + end])
        out[name] = torch.frombuffer(data, dtype=torch.float32).reshape(info["shape"]).clone()
    return out


def main():
    name, weights, inp = sys.argv[1:4]
    model = {n: m for n, m, _, _ in gen.MODELS}[name]
    model.load_state_dict(load_safetensors(weights))
    model.eval()
    with open(inp) as f:
        x = json.load(f)
    with torch.no_grad():
        y = model(torch.tensor(x["data"], dtype=torch.float32).reshape(x["shape"]))
    print(json.dumps({"shape": list(y.shape), "data": y.flatten().tolist()}))


if __name__ == "__main__":
    main()
