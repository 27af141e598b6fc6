# libmatio (Debian libmatio-dev) ships only a pkg-config file; wrap it as the
# imported target Matio::Matio.
find_package(PkgConfig REQUIRED)
pkg_check_modules(MATIO REQUIRED IMPORTED_TARGET matio)
if(NOT TARGET Matio::Matio)
  add_library(Matio::Matio ALIAS PkgConfig::MATIO)
endif()
