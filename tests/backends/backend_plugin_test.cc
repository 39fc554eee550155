// Engine plugins: loading, the errors a broken or missing plugin gives, and the check that a
// plugin is the engine its registration line names. The test binary hosts plugins the way
// `inferd` does (inferd_hosts_backend_plugins), so the real ONNX Runtime plugin loads here.
#include "backends/backend_plugin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace inferd::backends {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(BackendPlugin, AMissingPluginIsNotFoundAndNamesTheFile) {
  const fs::path dir = fs::temp_directory_path() / "inferd-no-plugins";
  fs::create_directories(dir);
  auto r = LoadBackendPlugin(dir, "onnxruntime");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr((dir / "libinferd_backend_onnxruntime.so").string()));
}

TEST(BackendPlugin, AFileThatIsNoLibraryFailsWithTheLoadersMessage) {
  const fs::path dir = fs::temp_directory_path() / "inferd-bad-plugin";
  fs::create_directories(dir);
  std::ofstream(dir / "libinferd_backend_bogus.so") << "not an ELF file";
  auto r = LoadBackendPlugin(dir, "bogus");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot load the bogus engine's plugin"));
}

TEST(BackendPlugin, TheOnnxRuntimePluginLoadsAndCreatesItsEngine) {
  auto factory = LoadBackendPlugin(DefaultBackendDirectory(), "onnxruntime");
  ASSERT_TRUE(factory.ok()) << factory.status().message();
  EXPECT_EQ(factory->name, "onnxruntime");
  EXPECT_EQ(factory->platform, "onnxruntime_onnx");
  EXPECT_EQ(factory->default_model_filename, "model.onnx");
  auto backend = factory->create();
  ASSERT_TRUE(backend.ok()) << backend.status().message();
  EXPECT_EQ((*backend)->name(), "onnxruntime");
}

TEST(BackendPlugin, APluginMustBeTheEngineItsRegistrationNames) {
  // The ONNX Runtime plugin registered as another engine: refused on first use.
  const fs::path dir = fs::temp_directory_path() / "inferd-renamed-plugin";
  fs::create_directories(dir);
  fs::copy_file(DefaultBackendDirectory() / "libinferd_backend_onnxruntime.so",
                dir / "libinferd_backend_other.so", fs::copy_options::overwrite_existing);
  auto backend = PluginBackend("other", "other_platform", "model.other", dir).create();
  ASSERT_FALSE(backend.ok());
  EXPECT_THAT(backend.status().message(), HasSubstr("declares engine 'onnxruntime'"));
}

TEST(BackendPlugin, BuiltinBackendsNameEveryEngineWithoutLoadingIt) {
  const fs::path dir = fs::temp_directory_path() / "inferd-no-plugins";
  fs::create_directories(dir);
  auto factories = BuiltinBackends(dir);  // nothing is loaded until create() is called
  ASSERT_FALSE(factories.empty());
  EXPECT_EQ(factories[0].name, "onnxruntime");
  EXPECT_EQ(factories[0].platform, "onnxruntime_onnx");
  auto backend = factories[0].create();
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace inferd::backends
