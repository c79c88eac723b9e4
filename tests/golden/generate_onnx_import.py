#!/usr/bin/python3
"""Generate tests/golden/onnx/*.onnx and onnx_import.json: PyTorch models exported with torch.onnx.export.

Run from anywhere:  /usr/bin/python3 tests/golden/generate_onnx_import.py

Four models as PyTorch users write them (an MLP, the W3 CNN, a residual block with BatchNorm and a
LeNet), in eval mode with a symbolic batch dim "N", at opsets 11 to 17. For each, the JSON records
a float32 input batch, PyTorch's output for it and the state-dict names, so that
tests/onnx-import/torch.test.ts can check tg.onnx.importModel against PyTorch.
"""

import json
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "onnx")


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return torch.log_softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)


class W3CNN(nn.Module):
    """The CLI's CNN (src/cli/models.ts) on 16×16 images: conv 3×3 (8) ReLU, pool, conv 3×3 (16) ReLU, pool, dense 64, dense 10 softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return torch.softmax(self.fc2(x), dim=1)


class ResidualNet(nn.Module):
    """conv → BN → ReLU → conv, plus the input, then BN and ReLU; global average pool and a linear head.

    torch.onnx.export folds a BatchNorm that follows a conv into the conv's weights; bn2 follows the
    residual Add, so it stays a BatchNormalization node with its running statistics.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        y = self.conv2(torch.relu(self.bn1(self.conv1(x))))
        y = torch.relu(self.bn2(y + x))
        return self.head(nn.functional.adaptive_avg_pool2d(y, 1).flatten(1))


class LeNet(nn.Module):
    """LeNet-5 as PyTorch tutorials write it, on 28×28 digits (the first conv pads 2)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.view(x.shape[0], -1)))
        return self.fc3(torch.relu(self.fc2(x)))


def randomize_batchnorm(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 1.5)
                m.weight.normal_()
                m.bias.normal_()


MODELS = [
    ("mlp", MLP(), [20], 11),
    ("w3_cnn", W3CNN(), [1, 16, 16], 13),
    ("residual_bn", ResidualNet(), [4, 8, 8], 15),
    ("lenet", LeNet(), [1, 28, 28], 17),
]


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = []
    for name, model, shape, opset in MODELS:
        randomize_batchnorm(model)
        model.eval()
        x = torch.randn(3, *shape)
        path = os.path.join(OUT_DIR, f"{name}.onnx")
        torch.onnx.export(
            model,
            x,
            path,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
            opset_version=opset,
        )
        with torch.no_grad():
            y = model(x)
        cases.append(
            {
                "name": name,
                "file": f"onnx/{name}.onnx",
                "opset": opset,
                "stateDict": list(model.state_dict().keys()),
                "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
                "output": {"shape": list(y.shape), "data": y.flatten().tolist()},
            }
        )
    meta = {"generator": "tests/golden/generate_onnx_import.py", "torch": torch.__version__}
    with open(os.path.join(HERE, "onnx_import.json"), "w") as f:
        json.dump({"meta": meta, "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} models to {OUT_DIR} and onnx_import.json")


if __name__ == "__main__":
    main()
