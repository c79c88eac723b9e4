"""W1 for numpy: a @ b on float32 arrays (BLAS threads come from OPENBLAS_NUM_THREADS/OMP_NUM_THREADS,
which the driver sets; threadpoolctl is used too when installed). See gemm_w1.py."""
import numpy as np

from gemm_w1 import run


def set_threads(n):
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        pass  # the driver's OPENBLAS_NUM_THREADS / OMP_NUM_THREADS apply


def blas_name():
    """The BLAS numpy calls, from the libraries mapped into this process (Debian's default is the slow reference BLAS)."""
    np.ones((2, 2), dtype=np.float32) @ np.ones((2, 2), dtype=np.float32)
    try:
        maps = open("/proc/self/maps").read()
    except OSError:
        return "cpu"
    for name in ("openblas", "mkl", "blis", "atlas"):
        if "lib" + name in maps:
            return name
    return "refblas" if "libblas" in maps else "cpu"


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    run("numpy", blas_name(), set_threads,
        lambda n: (rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)), np.matmul)
