# Finds every system dependency of the project (all Debian packages; see
# scripts/setup.sh).  Each find names the package to install when it fails.

# LibTorch: Debian's libtorch-dev by default; an official (CUDA) LibTorch via
# -DCMAKE_PREFIX_PATH=/path/to/libtorch.
find_package(Torch REQUIRED)
message(STATUS "LibTorch ${Torch_VERSION} (${TORCH_INSTALL_PREFIX})")

# NCCL process groups (deeplab/core/process_group.cpp): LibTorch's own
# headers compile ProcessGroupNCCL only under USE_C10D_NCCL, which its CMake
# config does not set.  A CUDA LibTorch (official builds link NCCL in) gets it
# unless -DDEEPLAB_WITH_NCCL=OFF.
if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
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
