// The image processor (`backend: "image"`, platform "inferd_image"): a model with no file that
// turns encoded images (a BYTES input, one PNG or JPEG per element) into the float or uint8
// tensor a vision model takes — decode, resize, centre crop, scale and mean/std normalization,
// NCHW or NHWC layout, cast to the output's data type — as the config's `parameters` say
// (docs/pipelines.md lists them). Meant as the first step of an ensemble; bad images are
// INVALID_ARGUMENT naming the element, never a crash.
#pragma once

#include <memory>

#include "backends/backend.h"
#include "backends/backend_registry.h"

namespace inferd::backends {

Result<std::unique_ptr<Backend>> CreateImageBackend();

// The registry entry (src/backends/CMakeLists.txt).
BackendFactory ImageBackendFactory();

}  // namespace inferd::backends
