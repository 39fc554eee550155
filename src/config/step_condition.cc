#include "config/step_condition.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

namespace inferd::config {
namespace {

constexpr std::string_view kParameterPrefix = "parameters.";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Status Bad(std::string_view text, std::string_view why) {
  return InvalidArgument(fmt::format("run_if '{}': {}", text, why));
}

template <typename T>
bool Compare(StepCondition::Op op, const T& a, const T& b) {
  switch (op) {
    case StepCondition::Op::kEq:
      return a == b;
    case StepCondition::Op::kNe:
      return a != b;
    case StepCondition::Op::kLt:
      return a < b;
    case StepCondition::Op::kLe:
      return a <= b;
    case StepCondition::Op::kGt:
      return a > b;
    case StepCondition::Op::kGe:
      return a >= b;
  }
  return false;
}

using Value = std::variant<double, std::string, bool>;

// The first element of a tensor as a number, text or boolean.
Result<Value> FirstElement(const Tensor& t) {
  const auto data = t.data();
  auto read = [&](auto zero) -> double {
    decltype(zero) v;
    std::memcpy(&v, data.data(), sizeof(v));
    return static_cast<double>(v);
  };
  const size_t size = DataTypeByteSize(t.dtype());
  if (t.dtype() != DataType::kBytes && data.size() < size) {
    return InvalidArgument("empty");
  }
  switch (t.dtype()) {
    case DataType::kBool:
      return Value(data[0] != std::byte{0});
    case DataType::kUint8:
      return Value(read(uint8_t{}));
    case DataType::kUint16:
      return Value(read(uint16_t{}));
    case DataType::kUint32:
      return Value(read(uint32_t{}));
    case DataType::kUint64:
      return Value(read(uint64_t{}));
    case DataType::kInt8:
      return Value(read(int8_t{}));
    case DataType::kInt16:
      return Value(read(int16_t{}));
    case DataType::kInt32:
      return Value(read(int32_t{}));
    case DataType::kInt64:
      return Value(read(int64_t{}));
    case DataType::kFp32:
      return Value(read(float{}));
    case DataType::kFp64:
      return Value(read(double{}));
    case DataType::kBytes: {
      ASSIGN_OR_RETURN(auto elements, SplitBytesElements(data));
      if (elements.empty()) return InvalidArgument("empty");
      return Value(std::string(elements[0]));
    }
    default:
      return InvalidArgument(
          fmt::format("a {} tensor cannot be tested by run_if", DataTypeName(t.dtype())));
  }
}

const char* KindOf(const std::variant<double, std::string, bool>& v) {
  return std::holds_alternative<double>(v) ? "a number"
         : std::holds_alternative<bool>(v) ? "a boolean"
                                           : "text";
}

}  // namespace

Result<StepCondition> ParseStepCondition(std::string_view text) {
  static constexpr std::pair<std::string_view, StepCondition::Op> kOps[] = {
      {"==", StepCondition::Op::kEq}, {"!=", StepCondition::Op::kNe},
      {"<=", StepCondition::Op::kLe}, {">=", StepCondition::Op::kGe},
      {"<", StepCondition::Op::kLt},  {">", StepCondition::Op::kGt}};
  StepCondition c;
  size_t at = std::string_view::npos, length = 0;
  for (const auto& [token, op] : kOps) {
    const size_t pos = text.find(token);
    if (pos != std::string_view::npos && pos < at) {
      at = pos;
      length = token.size();
      c.op = op;
    }
  }
  if (at == std::string_view::npos) {
    return Bad(text, "expected <operand> <op> <literal> with op one of == != < <= > >=");
  }
  std::string_view operand = Trim(text.substr(0, at));
  std::string_view literal = Trim(text.substr(at + length));
  if (operand.empty()) return Bad(text, "nothing to compare before the operator");
  if (operand.starts_with(kParameterPrefix)) {
    c.source = StepCondition::Source::kParameter;
    operand.remove_prefix(kParameterPrefix.size());
    if (operand.empty()) return Bad(text, "'parameters.' names no parameter");
  } else {
    c.source = StepCondition::Source::kTensor;
  }
  for (char ch : operand) {
    if (std::isspace(static_cast<unsigned char>(ch))) {
      return Bad(text, fmt::format("'{}' is not one name", operand));
    }
  }
  c.name = std::string(operand);
  if (literal.empty()) return Bad(text, "nothing to compare with after the operator");
  if (literal.size() >= 2 && (literal.front() == '\'' || literal.front() == '"') &&
      literal.back() == literal.front()) {
    c.value = std::string(literal.substr(1, literal.size() - 2));
  } else if (literal == "true" || literal == "false") {
    c.value = literal == "true";
  } else {
    const std::string s(literal);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) {
      return Bad(text, fmt::format("'{}' is not a number, 'text' or true/false", literal));
    }
    c.value = v;
  }
  if (!std::holds_alternative<double>(c.value) && c.op != StepCondition::Op::kEq &&
      c.op != StepCondition::Op::kNe) {
    return Bad(text, fmt::format("{} can only be compared with == or !=", KindOf(c.value)));
  }
  return c;
}

Result<bool> EvaluateCondition(const StepCondition& c, const Parameters& parameters,
                               const Tensor* tensor) {
  std::variant<double, std::string, bool> actual;
  if (c.source == StepCondition::Source::kParameter) {
    auto it = parameters.find(c.name);
    if (it == parameters.end()) return false;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
            actual = v;
          } else {
            actual = static_cast<double>(v);
          }
        },
        it->second);
  } else {
    if (tensor == nullptr) return false;
    auto first = FirstElement(*tensor);
    if (!first.ok()) {
      if (first.status().message() == "empty") return false;
      return first.status();
    }
    actual = std::move(first).value();
  }
  if (actual.index() != c.value.index()) {
    return InvalidArgument(
        fmt::format("run_if compares {} '{}' ({}) with {}",
                    c.source == StepCondition::Source::kParameter ? "parameter" : "tensor", c.name,
                    KindOf(actual), KindOf(c.value)));
  }
  return std::visit(
      [&](const auto& want) {
        using T = std::decay_t<decltype(want)>;
        return Compare(c.op, std::get<T>(actual), want);
      },
      c.value);
}

}  // namespace inferd::config
