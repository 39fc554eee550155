#include "scheduling/sequence_inputs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/model_config_parser.h"

namespace inferd::scheduling {
namespace {

using ::testing::HasSubstr;

config::ModelSequenceBatching Parse(const char* text) {
  auto c = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c->sequence_batching();
}

TEST(SequenceInputs, BuildsEachControlFromItsFalseTrueValues) {
  auto batching = Parse(R"(name: "m" sequence_batching { control_input [
      { name: "S" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] },
      { name: "E" control [ { kind: CONTROL_SEQUENCE_END fp32_false_true: [ 0, 1 ] } ] },
      { name: "C" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_STRING } ] } ] })");
  auto controls = ParseSequenceControls(batching);
  ASSERT_TRUE(controls.ok()) << controls.status().ToString();
  auto tensors = SequenceControlTensors(*controls, "s:abc", true, false, /*batched=*/true);
  ASSERT_TRUE(tensors.ok());
  ASSERT_EQ(tensors->size(), 3u);
  EXPECT_EQ((*tensors)[0].shape(), (Shape{1, 1}));
  EXPECT_EQ((*tensors)[0].As<int32_t>()[0], 1);
  EXPECT_EQ((*tensors)[1].As<float>()[0], 0.0f);
  auto corrid = SplitBytesElements((*tensors)[2].data());
  ASSERT_TRUE(corrid.ok());
  EXPECT_EQ(corrid->at(0), "abc");
}

TEST(SequenceInputs, RefusesAStringIdForANumericCorrid) {
  auto batching = Parse(R"(name: "m" sequence_batching { control_input [
      { name: "C" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ] } ] })");
  auto controls = ParseSequenceControls(batching);
  ASSERT_TRUE(controls.ok());
  EXPECT_EQ((*SequenceControlTensors(*controls, "n:42", false, false, false))[0]
                .As<uint64_t>()[0],
            42u);
  EXPECT_THAT(SequenceControlTensors(*controls, "s:x", false, false, false).status().message(),
              HasSubstr("takes a number"));
}

TEST(SequenceInputs, RefusesControlsWithoutValuesAndStatesOfVariableDims) {
  auto no_values = Parse(R"(name: "m" sequence_batching { control_input [
      { name: "S" control [ { kind: CONTROL_SEQUENCE_START } ] } ] })");
  EXPECT_THAT(ParseSequenceControls(no_values).status().message(), HasSubstr("'S' needs two"));
  auto variable = Parse(R"(name: "m" sequence_batching { state [
      { input_name: "i" output_name: "o" data_type: TYPE_FP32 dims: [ -1 ] } ] })");
  EXPECT_THAT(ParseSequenceStates(variable).status().message(), HasSubstr("fixed dims"));
}

}  // namespace
}  // namespace inferd::scheduling
