# Official LibTorch 2.x packages ship their own fmt (12.x) in include/fmt,
# ahead of the system include directory on every compile line.  Debian's
# spdlog 1.10 is built against the system fmt 9 (libfmt-dev) and does not
# compile with fmt 12 (fmt::basic_runtime is gone), and mixing the two would
# break the ODR.  So our targets see the system fmt first, through a
# directory that holds nothing but a link to it; only c10d's headers
# (core/process_group.cpp) need LibTorch's fmt, and that file builds without
# the shim (deeplab/core/CMakeLists.txt).  Debian's LibTorch 1.13 ships no
# fmt: no shim is made there.
set(DEEPLAB_FMT_SHIM_DIR "")
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt")
  find_package(fmt REQUIRED)   # libfmt-dev, spdlog's own dependency
  get_target_property(_fmt_dirs fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  find_path(_system_fmt_parent fmt/core.h PATHS ${_fmt_dirs} NO_DEFAULT_PATH)
  if(NOT _system_fmt_parent)
    message(FATAL_ERROR "fmt headers of spdlog not found in '${_fmt_dirs}' (install libfmt-dev)")
  endif()
  set(DEEPLAB_FMT_SHIM_DIR "${CMAKE_BINARY_DIR}/spdlog_fmt")
  file(MAKE_DIRECTORY "${DEEPLAB_FMT_SHIM_DIR}")
  file(CREATE_LINK "${_system_fmt_parent}/fmt" "${DEEPLAB_FMT_SHIM_DIR}/fmt" SYMBOLIC)
  message(STATUS "spdlog's fmt (${_system_fmt_parent}/fmt) ahead of LibTorch's bundled fmt")
endif()

# Puts the shim first on `target`'s include path (no-op without one).
function(deeplab_use_spdlog_fmt target)
  if(DEEPLAB_FMT_SHIM_DIR)
    target_include_directories(${target} SYSTEM BEFORE PRIVATE "${DEEPLAB_FMT_SHIM_DIR}")
  endif()
endfunction()
