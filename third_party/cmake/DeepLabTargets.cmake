# Helpers that give every project target the same flags, so that one
# precompiled LibTorch header is built once and reused everywhere.

set(DEEPLAB_WARNINGS -Wall -Wextra)

# The PCH owner: a tiny object library whose only job is to compile
# <torch/torch.h> once (~25 s).  Everything else reuses it.
add_library(deeplab_pch OBJECT ${PROJECT_SOURCE_DIR}/third_party/cmake/pch_anchor.cpp)
target_link_libraries(deeplab_pch PUBLIC ${TORCH_LIBRARIES} OpenMP::OpenMP_CXX)
target_compile_options(deeplab_pch PRIVATE ${DEEPLAB_WARNINGS})
if(DEEPLAB_USE_PCH)
  target_precompile_headers(deeplab_pch PRIVATE
    <torch/torch.h> <string> <vector> <memory> <map> <unordered_map>)
endif()

# Flags every project target shares; NO_FMT_SHIM for the files that include
# LibTorch's own c10d headers, which need its bundled fmt (SpdlogFmtShim.cmake).
function(_deeplab_common target)
  cmake_parse_arguments(ARG "NO_FMT_SHIM" "" "" ${ARGN})
  if(NOT ARG_NO_FMT_SHIM)
    deeplab_use_spdlog_fmt(${target})
  endif()
  target_compile_options(${target} PRIVATE ${DEEPLAB_WARNINGS})
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES} OpenMP::OpenMP_CXX)
  if(DEEPLAB_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM deeplab_pch)
  endif()
endfunction()

# deeplab_add_library(<name> SOURCES ... [C10D_SOURCES ...] DEPS ...)
# C10D_SOURCES include c10d's headers and build without the fmt shim.
function(deeplab_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;C10D_SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)  # an area with no code yet: a header-only placeholder
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  _deeplab_common(${name})
  if(ARG_C10D_SOURCES)
    add_library(${name}_c10d OBJECT ${ARG_C10D_SOURCES})
    target_include_directories(${name}_c10d PRIVATE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name}_c10d PRIVATE ${ARG_DEPS})
    _deeplab_common(${name}_c10d NO_FMT_SHIM)
    target_sources(${name} PRIVATE $<TARGET_OBJECTS:${name}_c10d>)
  endif()
  # The `deeplab` tool links every area library registered here.
  set_property(GLOBAL APPEND PROPERTY DEEPLAB_AREA_LIBRARIES ${name})
endfunction()

# deeplab_add_executable(<name> SOURCES ... DEPS ...)
function(deeplab_add_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  # Executables would get -fPIE, which makes gcc reject the -fPIC PCH;
  # -fPIC objects link into a PIE just as well.
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  target_compile_options(${name} PRIVATE -fPIC)
  # PyPI's LibTorch exports pieces of a static libstdc++ (std::filesystem,
  # string streams ...) from libtorch*.so; listed before libstdc++.so they
  # won the symbol lookup and std::filesystem::remove_all jumped to null.
  # libstdc++ as the first NEEDED library keeps the real one first.
  target_link_options(${name} PRIVATE "LINKER:--push-state,--no-as-needed" -lstdc++ "LINKER:--pop-state")
  _deeplab_common(${name})
endfunction()

# One test binary per area: deeplab_add_test_binary(<name> SOURCES ... DEPS ...)
function(deeplab_add_test_binary name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    return()
  endif()
  deeplab_add_executable(${name} SOURCES ${ARG_SOURCES}
    DEPS ${ARG_DEPS} deeplab_test_support GTest::gtest GTest::gtest_main)
  # Tests find the project's files (configs/, datasets/) and the real samples
  # in ../shared through these, so they run from any directory.
  target_compile_definitions(${name} PRIVATE
    DEEPLAB_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    DEEPLAB_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120
    PROPERTIES ENVIRONMENT "DEEPLAB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
