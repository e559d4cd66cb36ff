{
  "targets": [
    {
      "target_name": "tsvision",
      "sources": [
        "native/src/addon.cc",
        "native/src/view.cc",
        "native/src/runtime.cc",
        "native/src/bf16.cc",
        "native/src/process.cc",
        "native/src/copy.cc",
        "native/src/packed.cc",
        "native/src/matmul.cc",
        "native/src/eltwise.cc",
        "native/src/binary.cc",
        "native/src/reduce.cc",
        "native/src/conv.cc",
        "native/src/pool.cc",
        "native/src/norm.cc",
        "native/src/index.cc",
        "native/src/resample.cc",
        "native/src/random.cc",
        "native/src/image.cc",
        "native/src/optim.cc",
        "native/src/winograd.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp", "-fexceptions", "-Wall", "-Wno-unused-parameter"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
