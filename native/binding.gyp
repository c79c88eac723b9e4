# The optional native backend (see README.md). Built by scripts/build-native.mjs during
# `npm install` / `npm ci` when a C++ toolchain and Node headers exist; never required.
{
  "targets": [
    {
      "target_name": "tensorgrad_native",
      "sources": ["src/addon.cc", "src/conv.cc", "src/elementwise.cc", "src/gemm.cc", "src/thread_pool.cc"],
      # Portable flags only: the AVX2/FMA micro-kernel is compiled through a target attribute
      # and chosen at run time (__builtin_cpu_supports), so the binary runs on any x86-64 / arm64.
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17", "-std=gnu++1y", "-std=gnu++14"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-Wall"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2, "AdditionalOptions": ["/std:c++17"] } },
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["OS=='linux'", { "libraries": ["-pthread"], "cflags_cc": ["-pthread"] }]]
    }
  ]
}
