# libtorch (Debian bookworm's libtorch-dev 1.13, CPU) for the TorchScript backend in
# src/backends/pytorch. On by default, also in the sanitizer presets: the ASan+UBSan suites pass
# with it (libtorch itself is not instrumented), and the TSan preset builds only the scheduling
# and repository tests, which do not link it. -DINFERD_WITH_TORCH=OFF builds inferd without the
# backend (and without libtorch); the integration tests then skip its module. Headers are found
# directly instead of through Debian's TorchConfig, whose Caffe2 part looks for CUDA and a second
# protobuf.
option(INFERD_WITH_TORCH "Build the TorchScript backend (needs libtorch-dev)" ON)
if(NOT INFERD_WITH_TORCH)
  message(STATUS "TorchScript backend: off (INFERD_WITH_TORCH=OFF)")
  return()
endif()
find_path(TORCH_INCLUDE_DIR torch/script.h)
find_path(TORCH_API_INCLUDE_DIR torch/all.h PATHS /usr/include/torch/csrc/api/include
  PATH_SUFFIXES torch/csrc/api/include)
find_library(TORCH_LIBRARY torch)
find_library(TORCH_CPU_LIBRARY torch_cpu)
find_library(C10_LIBRARY c10)
if(NOT TORCH_INCLUDE_DIR OR NOT TORCH_API_INCLUDE_DIR OR NOT TORCH_LIBRARY OR NOT TORCH_CPU_LIBRARY
   OR NOT C10_LIBRARY)
  message(FATAL_ERROR "libtorch not found: scripts/install-deps.sh installs Debian's "
                      "libtorch-dev, or configure with -DINFERD_WITH_TORCH=OFF")
endif()
add_library(torch::torch INTERFACE IMPORTED GLOBAL)
target_include_directories(torch::torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIR}
  ${TORCH_API_INCLUDE_DIR})
target_link_libraries(torch::torch INTERFACE ${TORCH_LIBRARY} ${TORCH_CPU_LIBRARY} ${C10_LIBRARY})
message(STATUS "TorchScript backend: ${TORCH_CPU_LIBRARY}")
