"""W1 for PyTorch: torch.matmul on float32 CPU tensors (see gemm_w1.py)."""
import torch

from gemm_w1 import run

if __name__ == "__main__":
    torch.manual_seed(0)
    run("pytorch", "cpu", torch.set_num_threads, lambda n: (torch.rand(n, n), torch.rand(n, n)), torch.matmul)
