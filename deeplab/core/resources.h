#pragma once
// Where the project's own files (datasets/*.yaml descriptors, configs/) are
// found at run time, without baking the source tree's path into the binary:
//   1. $DEEPLAB_HOME, when set;
//   2. the directory above the executable (a build tree: build/deeplab -> the repository);
//   3. <executable>/../share/deeplab (what `cmake --install` lays out).

#include <string>
#include <vector>

namespace deeplab::core {

/// The roots above, in order; only those that exist.
std::vector<std::string> resource_roots();

/// `relative` under the first root that has it as a regular file; "" when
/// none does.  `tried` (optional) receives every path looked at.
std::string find_resource(const std::string& relative, std::vector<std::string>* tried = nullptr);

}  // namespace deeplab::core
