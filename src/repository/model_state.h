// Lifecycle states of a model version, with Triton's names (used by the repository index).
//
//   (scan) ──► LOADING ──► READY ──► UNLOADING ──► (gone)
//                  └──────► UNAVAILABLE (load failed; `reason` says why)
//
// A ServableModel exists only in READY; requests pin it through a shared handle, so unloading
// (a later issue) waits for in-flight requests to drop their handles before the engine dies.
#pragma once

#include <string_view>

namespace inferd::repository {

enum class ModelState { kUnknown, kLoading, kReady, kUnloading, kUnavailable };

// "UNKNOWN", "LOADING", "READY", "UNLOADING", "UNAVAILABLE".
std::string_view ModelStateName(ModelState state);

}  // namespace inferd::repository
