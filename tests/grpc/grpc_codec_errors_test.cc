// DecodeModelInferRequest on malformed messages: each is INVALID_ARGUMENT with a message that
// names the offending input and field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grpc/grpc_codec.h"

namespace inferd::grpc {
namespace {

using inference::ModelInferRequest;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::shared_ptr<ModelInferRequest> RequestWith(const std::string& name, const std::string& datatype,
                                               Shape shape) {
  auto r = std::make_shared<ModelInferRequest>();
  r->set_model_name("m");
  auto* in = r->add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
  return r;
}

Status DecodeError(std::shared_ptr<ModelInferRequest> r) {
  auto d = DecodeModelInferRequest(std::move(r));
  EXPECT_FALSE(d.ok());
  if (d.ok()) return Status::Ok();
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  return d.status();
}

TEST(GrpcCodecErrors, TypedElementCountMismatchNamesInputAndField) {
  auto r = RequestWith("x", "FP32", {2, 2});
  r->mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
  EXPECT_THAT(DecodeError(r).message(), AllOf(HasSubstr("'x'"), HasSubstr("fp32_contents"),
                                              HasSubstr("1 elements"), HasSubstr("needs 4")));
}

TEST(GrpcCodecErrors, DataInTheWrongTypedFieldIsNamed) {
  auto r = RequestWith("x", "INT32", {1});
  r->mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
  EXPECT_THAT(DecodeError(r).message(),
              AllOf(HasSubstr("int_contents"), HasSubstr("fp32_contents")));
}

TEST(GrpcCodecErrors, NarrowIntegersAreRangeChecked) {
  auto r = RequestWith("small", "INT8", {2});
  r->mutable_inputs(0)->mutable_contents()->add_int_contents(1);
  r->mutable_inputs(0)->mutable_contents()->add_int_contents(128);
  EXPECT_THAT(DecodeError(r).message(),
              AllOf(HasSubstr("'small'"), HasSubstr("int_contents[1] = 128"),
                    HasSubstr("out of range for INT8")));
  r = RequestWith("u", "UINT16", {1});
  r->mutable_inputs(0)->mutable_contents()->add_uint_contents(65536);
  EXPECT_THAT(DecodeError(r).message(), HasSubstr("out of range for UINT16"));
}

TEST(GrpcCodecErrors, HalfPrecisionNeedsRawContents) {
  for (const char* dt : {"FP16", "BF16"}) {
    auto r = RequestWith("h", dt, {1});
    r->mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
    EXPECT_THAT(DecodeError(r).message(), AllOf(HasSubstr(dt), HasSubstr("raw_input_contents")));
  }
}

TEST(GrpcCodecErrors, RawContentSizeMismatchNamesInput) {
  auto r = RequestWith("x", "FP32", {3});
  r->add_raw_input_contents(std::string(8, '\0'));
  EXPECT_THAT(DecodeError(r).message(), AllOf(HasSubstr("'x'"), HasSubstr("raw_input_contents[0]"),
                                              HasSubstr("8 bytes"), HasSubstr("needs 12")));
}

TEST(GrpcCodecErrors, RawContentsMustCoverEveryInput) {
  auto r = RequestWith("x", "FP32", {1});
  auto* second = r->add_inputs();
  second->set_name("y");
  second->set_datatype("FP32");
  second->add_shape(1);
  r->add_raw_input_contents(std::string(4, '\0'));
  EXPECT_THAT(DecodeError(r).message(),
              AllOf(HasSubstr("raw_input_contents has 1 entries"), HasSubstr("2 inputs outside shared memory")));
}

TEST(GrpcCodecErrors, RawAndTypedContentsDoNotMix) {
  auto r = RequestWith("x", "FP32", {1});
  r->mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
  r->add_raw_input_contents(std::string(4, '\0'));
  EXPECT_THAT(DecodeError(r).message(), AllOf(HasSubstr("'x'"), HasSubstr("contents")));
}

TEST(GrpcCodecErrors, MalformedRawBytesElementsAreRejected) {
  auto r = RequestWith("s", "BYTES", {1});
  r->add_raw_input_contents(std::string("\x05\0\0\0ab", 6));  // says 5 bytes, has 2
  EXPECT_THAT(DecodeError(r).message(), AllOf(HasSubstr("'s'"), HasSubstr("raw_input_contents")));
}

TEST(GrpcCodecErrors, UnknownDatatypeAndBadShapeAreNamed) {
  EXPECT_THAT(DecodeError(RequestWith("x", "FLOAT", {1})).message(),
              AllOf(HasSubstr("'x'"), HasSubstr("unknown datatype 'FLOAT'")));
  EXPECT_THAT(DecodeError(RequestWith("x", "FP32", {-1, 2})).message(),
              AllOf(HasSubstr("'x'"), HasSubstr("invalid shape")));
}

TEST(GrpcCodecErrors, BadModelVersionAndMissingNamesAreRejected) {
  auto r = RequestWith("x", "FP32", {0});
  r->set_model_version("latest");
  EXPECT_THAT(DecodeError(r).message(), HasSubstr("model_version 'latest'"));
  r = RequestWith("x", "FP32", {0});
  r->clear_model_name();
  EXPECT_THAT(DecodeError(r).message(), HasSubstr("model_name"));
  r = RequestWith("", "FP32", {0});
  EXPECT_THAT(DecodeError(r).message(), HasSubstr("inputs[0] has no name"));
}

TEST(GrpcCodecErrors, ParameterWithoutValueOrTooLargeIsRejected) {
  auto r = RequestWith("x", "FP32", {0});
  (*r->mutable_parameters())["empty"];
  EXPECT_THAT(DecodeError(r).message(), HasSubstr("parameter 'empty' has no value"));
  r = RequestWith("x", "FP32", {0});
  (*r->mutable_parameters())["big"].set_uint64_param(UINT64_MAX);
  EXPECT_THAT(DecodeError(r).message(), HasSubstr("'big'"));
}

TEST(GrpcCodecErrors, ParseModelVersion) {
  EXPECT_EQ(*ParseModelVersion("", "version"), 0);
  EXPECT_EQ(*ParseModelVersion("12", "version"), 12);
  for (const char* bad : {"0", "-1", "1x", " 1", "abc"}) {
    EXPECT_FALSE(ParseModelVersion(bad, "version").ok()) << bad;
  }
}

}  // namespace
}  // namespace inferd::grpc
