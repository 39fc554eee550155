// DecodeModelInferRequest / EncodeModelInferResponse on well-formed messages: typed and raw
// contents for every datatype, parameters, requested outputs, and zero-copy raw inputs.
#include "grpc/grpc_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

namespace inferd::grpc {
namespace {

using inference::ModelInferRequest;

std::shared_ptr<ModelInferRequest> NewRequest(const std::string& model = "m") {
  auto r = std::make_shared<ModelInferRequest>();
  r->set_model_name(model);
  return r;
}

ModelInferRequest::InferInputTensor* AddInput(ModelInferRequest& r, const std::string& name,
                                              const std::string& datatype, Shape shape) {
  auto* in = r.add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
  return in;
}

template <typename T>
std::vector<T> Elements(const Tensor& t) {
  std::vector<T> out(t.byte_size() / sizeof(T));
  std::memcpy(out.data(), t.data().data(), t.byte_size());
  return out;
}

template <typename T>
std::string RawBytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

TEST(GrpcCodec, DecodesNameVersionIdAndParameters) {
  auto r = NewRequest("simple");
  r->set_model_version("3");
  r->set_id("req-7");
  (*r->mutable_parameters())["flag"].set_bool_param(true);
  (*r->mutable_parameters())["n"].set_int64_param(-4);
  (*r->mutable_parameters())["s"].set_string_param("x");
  (*r->mutable_parameters())["d"].set_double_param(0.5);
  (*r->mutable_parameters())["u"].set_uint64_param(9);
  auto d = DecodeModelInferRequest(r);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->model_name, "simple");
  EXPECT_EQ(d->model_version, 3);
  EXPECT_EQ(d->id, "req-7");
  EXPECT_EQ(GetBoolParameter(d->parameters, "flag"), true);
  EXPECT_EQ(GetIntParameter(d->parameters, "n"), -4);
  EXPECT_EQ(GetStringParameter(d->parameters, "s"), "x");
  EXPECT_EQ(std::get<double>(d->parameters.at("d")), 0.5);
  EXPECT_EQ(GetIntParameter(d->parameters, "u"), 9);
}

TEST(GrpcCodec, EmptyVersionLetsThePolicyChoose) {
  auto d = DecodeModelInferRequest(NewRequest());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->model_version, 0);
}

TEST(GrpcCodec, DecodesTypedContentsOfEveryTypedDatatype) {
  auto r = NewRequest();
  auto add = [&](const char* name, const char* dt) { return AddInput(*r, name, dt, {1, 2}); };
  auto* c = add("b", "BOOL")->mutable_contents();
  c->add_bool_contents(true), c->add_bool_contents(false);
  c = add("i8", "INT8")->mutable_contents();
  c->add_int_contents(-128), c->add_int_contents(127);
  c = add("i16", "INT16")->mutable_contents();
  c->add_int_contents(-32768), c->add_int_contents(32767);
  c = add("i32", "INT32")->mutable_contents();
  c->add_int_contents(std::numeric_limits<int32_t>::min()), c->add_int_contents(7);
  c = add("i64", "INT64")->mutable_contents();
  c->add_int64_contents(std::numeric_limits<int64_t>::min()), c->add_int64_contents(1);
  c = add("u8", "UINT8")->mutable_contents();
  c->add_uint_contents(0), c->add_uint_contents(255);
  c = add("u16", "UINT16")->mutable_contents();
  c->add_uint_contents(1), c->add_uint_contents(65535);
  c = add("u32", "UINT32")->mutable_contents();
  c->add_uint_contents(2), c->add_uint_contents(std::numeric_limits<uint32_t>::max());
  c = add("u64", "UINT64")->mutable_contents();
  c->add_uint64_contents(3), c->add_uint64_contents(std::numeric_limits<uint64_t>::max());
  c = add("f32", "FP32")->mutable_contents();
  c->add_fp32_contents(0.25f), c->add_fp32_contents(-1.5f);
  c = add("f64", "FP64")->mutable_contents();
  c->add_fp64_contents(1e300), c->add_fp64_contents(-0.1);
  c = add("s", "BYTES")->mutable_contents();
  c->add_bytes_contents("hi"), c->add_bytes_contents(std::string("\0x", 2));

  auto d = DecodeModelInferRequest(r);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto& in = d->inputs;
  ASSERT_EQ(in.size(), 12u);
  for (const Tensor& t : in) {
    EXPECT_EQ(t.shape(), (Shape{1, 2})) << t.name();
    EXPECT_TRUE(t.ValidateByteSize().ok()) << t.name();
  }
  EXPECT_EQ(Elements<uint8_t>(in[0]), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(Elements<int8_t>(in[1]), (std::vector<int8_t>{-128, 127}));
  EXPECT_EQ(Elements<int16_t>(in[2]), (std::vector<int16_t>{-32768, 32767}));
  EXPECT_EQ(Elements<int32_t>(in[3]), (std::vector<int32_t>{INT32_MIN, 7}));
  EXPECT_EQ(Elements<int64_t>(in[4]), (std::vector<int64_t>{INT64_MIN, 1}));
  EXPECT_EQ(Elements<uint8_t>(in[5]), (std::vector<uint8_t>{0, 255}));
  EXPECT_EQ(Elements<uint16_t>(in[6]), (std::vector<uint16_t>{1, 65535}));
  EXPECT_EQ(Elements<uint32_t>(in[7]), (std::vector<uint32_t>{2, UINT32_MAX}));
  EXPECT_EQ(Elements<uint64_t>(in[8]), (std::vector<uint64_t>{3, UINT64_MAX}));
  EXPECT_EQ(Elements<float>(in[9]), (std::vector<float>{0.25f, -1.5f}));
  EXPECT_EQ(Elements<double>(in[10]), (std::vector<double>{1e300, -0.1}));
  auto strings = SplitBytesElements(in[11].data());
  ASSERT_TRUE(strings.ok());
  EXPECT_EQ(strings->at(0), "hi");
  EXPECT_EQ(strings->at(1), std::string_view("\0x", 2));
}

TEST(GrpcCodec, RawInputsAreBorrowedFromTheMessage) {
  auto r = NewRequest();
  AddInput(*r, "x", "FP32", {2});
  AddInput(*r, "h", "FP16", {3});
  r->add_raw_input_contents(RawBytes(std::vector<float>{1.f, 2.f}));
  r->add_raw_input_contents(RawBytes(std::vector<uint16_t>{0x3c00, 0xc000, 0x7bff}));
  auto d = DecodeModelInferRequest(r);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->inputs.size(), 2u);
  EXPECT_EQ(static_cast<const void*>(d->inputs[0].data().data()),
            static_cast<const void*>(r->raw_input_contents(0).data()));
  EXPECT_EQ(Elements<uint16_t>(d->inputs[1]), (std::vector<uint16_t>{0x3c00, 0xc000, 0x7bff}));
  // The tensors keep the message alive after the caller lets go of it.
  const std::string copy = r->raw_input_contents(0);
  std::weak_ptr<ModelInferRequest> weak = r;
  r.reset();
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(std::memcmp(d->inputs[0].data().data(), copy.data(), copy.size()), 0);
}

TEST(GrpcCodec, RawBytesInputUsesTheLengthPrefixedLayout) {
  auto r = NewRequest();
  AddInput(*r, "s", "BYTES", {2});
  std::vector<std::byte> raw;
  AppendBytesElement(raw, "ab");
  AppendBytesElement(raw, "");
  r->add_raw_input_contents(std::string(reinterpret_cast<const char*>(raw.data()), raw.size()));
  auto d = DecodeModelInferRequest(r);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->inputs[0].byte_size(), raw.size());
}

TEST(GrpcCodec, DecodesRequestedOutputsWithParameters) {
  auto r = NewRequest();
  auto* out = r->add_outputs();
  out->set_name("probabilities");
  (*out->mutable_parameters())["classification"].set_int64_param(3);
  r->add_outputs()->set_name("logits");
  auto d = DecodeModelInferRequest(r);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->outputs.size(), 2u);
  EXPECT_EQ(d->outputs[0].name, "probabilities");
  EXPECT_EQ(GetIntParameter(d->outputs[0].parameters, "classification"), 3);
  EXPECT_EQ(d->outputs[1].name, "logits");
}

TEST(GrpcCodec, EncodesEveryOutputAsRawContentsInOrder) {
  InferenceResponse response;
  response.model_name = "mlp";
  response.model_version = 2;
  response.id = "abc";
  response.parameters.emplace("sequence_end", true);
  Tensor a("a", DataType::kFp32, {1, 2});
  a.SetData(std::vector<std::byte>(8, std::byte{1}));
  Tensor b("b", DataType::kBf16, {3});
  b.SetData(std::vector<std::byte>(6, std::byte{2}));
  response.outputs = {a, b};

  inference::ModelInferResponse out;
  EncodeModelInferResponse(response, &out);
  EXPECT_EQ(out.model_name(), "mlp");
  EXPECT_EQ(out.model_version(), "2");
  EXPECT_EQ(out.id(), "abc");
  EXPECT_TRUE(out.parameters().at("sequence_end").bool_param());
  ASSERT_EQ(out.outputs_size(), 2);
  EXPECT_EQ(out.outputs(0).name(), "a");
  EXPECT_EQ(out.outputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(out.outputs(0).shape().begin(), out.outputs(0).shape().end()),
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(out.outputs(1).datatype(), "BF16");
  EXPECT_FALSE(out.outputs(0).has_contents());
  ASSERT_EQ(out.raw_output_contents_size(), 2);
  EXPECT_EQ(out.raw_output_contents(0), std::string(8, '\1'));
  EXPECT_EQ(out.raw_output_contents(1), std::string(6, '\2'));
}

TEST(GrpcCodec, ParametersRoundTrip) {
  Parameters params{{"b", false}, {"i", int64_t{-1}}, {"d", 2.5}, {"s", std::string("v")}};
  ProtoParameters proto;
  EncodeParameters(params, &proto);
  auto back = DecodeParameters(proto, "request");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, params);
}

}  // namespace
}  // namespace inferd::grpc
