#include "deeplab/version.h"

namespace deeplab {

const char* version() { return DEEPLAB_VERSION; }

}  // namespace deeplab
