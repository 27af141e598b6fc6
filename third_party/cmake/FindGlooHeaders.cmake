# Locates the Gloo headers that c10d's ProcessGroupGloo.hpp needs.
# Debian: libgloo-dev (GlooConfig.cmake in /usr/share/cmake/Gloo).
# An official LibTorch bundles no Gloo headers either, so the same rule holds.
find_path(GLOO_INCLUDE_DIR gloo/config.h
  HINTS ${TORCH_INSTALL_PREFIX}/include /usr/include /usr/local/include)
if(GLOO_INCLUDE_DIR)
  set(DEEPLAB_HAVE_GLOO ON)
  message(STATUS "Gloo headers: ${GLOO_INCLUDE_DIR}")
else()
  set(DEEPLAB_HAVE_GLOO OFF)
  message(STATUS "Gloo headers not found (install libgloo-dev); distributed training disabled")
endif()
