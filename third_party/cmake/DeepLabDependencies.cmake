# Finds every system dependency of the project (all Debian packages; see
# scripts/setup.sh).  Each find names the package to install when it fails.

# LibTorch: Debian's libtorch-dev by default; an official (CUDA) LibTorch via
# -DCMAKE_PREFIX_PATH=/path/to/libtorch.
find_package(Torch REQUIRED)
# TorchConfig.cmake finds libc10 with find_library(c10_LIBRARY c10 PATHS
# <its prefix>/lib), which searches the system directories first: with
# Debian's libtorch-dev installed beside a pip or zip LibTorch, the binaries
# linked Debian's c10 1.13 with torch 2.x and aborted at start-up.  Use the
# LibTorch's own.
if(c10_LIBRARY AND NOT c10_LIBRARY MATCHES "^${TORCH_INSTALL_PREFIX}/")
  find_library(DEEPLAB_OWN_C10 c10 PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH REQUIRED)
  set(_libraries "")
  foreach(_library IN LISTS TORCH_LIBRARIES)
    if(_library STREQUAL c10_LIBRARY)
      set(_library "${DEEPLAB_OWN_C10}")
    endif()
    list(APPEND _libraries "${_library}")
  endforeach()
  set(TORCH_LIBRARIES "${_libraries}")
  message(STATUS "c10: ${DEEPLAB_OWN_C10} (not the system's ${c10_LIBRARY})")
endif()
message(STATUS "LibTorch ${Torch_VERSION} (${TORCH_INSTALL_PREFIX})")

# The Python whose torch/torchvision the oracle tests compare against: Debian's
# python3-torch (1.13) for Debian's LibTorch; setup.sh --torch pip passes the
# venv's python, whose torch is the very LibTorch this tree links.
set(DEEPLAB_ORACLE_PYTHON "/usr/bin/python3" CACHE FILEPATH "Python with torch + torchvision for the oracle tests")
message(STATUS "Oracle Python: ${DEEPLAB_ORACLE_PYTHON}")

# The Python of the checking tools (TensorBoard's event reader, ONNX and ONNX
# Runtime): the venv scripts/setup.sh makes from scripts/requirements-tools.txt,
# named by that file's hash as scripts/tools_env.sh names it.  The tests that
# need it skip (and say so) where it is missing.
if(NOT DEEPLAB_TOOLS_PYTHON)
  file(SHA256 "${PROJECT_SOURCE_DIR}/scripts/requirements-tools.txt" _tools_hash)
  string(SUBSTRING "${_tools_hash}" 0 12 _tools_hash)
  set(_venv_root "$ENV{HOME}/.cache/deeplab-cpp")
  if(DEFINED ENV{DEEPLAB_VENV_ROOT})
    set(_venv_root "$ENV{DEEPLAB_VENV_ROOT}")
  endif()
  set(DEEPLAB_TOOLS_PYTHON "${_venv_root}/venv-tools-${_tools_hash}/bin/python")
endif()
message(STATUS "Tools Python: ${DEEPLAB_TOOLS_PYTHON}")

# NCCL process groups (deeplab/core/process_group.cpp): LibTorch's own
# headers compile ProcessGroupNCCL only under USE_C10D_NCCL, which its CMake
# config does not set.  A CUDA LibTorch (official builds link NCCL in) gets it
# unless -DDEEPLAB_WITH_NCCL=OFF.
if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
  # CUDA-only code (the caching allocator's statistics) compiles under this.
  add_compile_definitions(DEEPLAB_WITH_CUDA)
  option(DEEPLAB_WITH_NCCL "compile the NCCL process group" ON)
else()
  set(DEEPLAB_WITH_NCCL OFF)
endif()
if(DEEPLAB_WITH_NCCL)
  add_compile_definitions(USE_C10D_NCCL)
  message(STATUS "c10d backends: gloo, nccl")
else()
  message(STATUS "c10d backends: gloo")
endif()

# c10d's ProcessGroupGloo.hpp includes Gloo headers; Debian ships them apart.
include(FindGlooHeaders)

find_package(yaml-cpp REQUIRED)          # libyaml-cpp-dev
find_package(spdlog REQUIRED)            # libspdlog-dev
include(SpdlogFmtShim)                   # spdlog's fmt ahead of a LibTorch's bundled one
find_package(CLI11 REQUIRED)             # libcli11-dev
find_package(PNG REQUIRED)               # libpng-dev
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs videoio)  # libopencv-dev (videoio: deeplab predict on videos)
include(FindMatio)                       # libmatio-dev (SBD .mat labels)
find_package(nlohmann_json 3 REQUIRED)   # nlohmann-json3-dev
find_package(Threads REQUIRED)
# ATen's at::parallel_for is header code built on `#pragma omp parallel`
# (Debian's LibTorch uses the OpenMP backend): without -fopenmp in *our*
# translation units it silently runs on one thread.
find_package(OpenMP REQUIRED)

if(DEEPLAB_BUILD_TESTS)
  find_package(GTest REQUIRED)           # libgtest-dev
endif()

# Debian's yaml-cpp 0.7 exports the target as `yaml-cpp`; newer ones as
# `yaml-cpp::yaml-cpp`.  Normalise to one name.
if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
