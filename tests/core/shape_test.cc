#include "core/shape.h"

#include <gtest/gtest.h>

#include <span>
#include <utility>
#include <vector>

namespace inferd {
namespace {

std::vector<int64_t> Dims(const Shape& shape) { return {shape.begin(), shape.end()}; }

TEST(Shape, BuildsFromAnInitializerListIteratorsAndAVector) {
  EXPECT_EQ(Dims(Shape{1, 3, 224, 224}), (std::vector<int64_t>{1, 3, 224, 224}));
  const std::vector<int> ints = {2, 5};
  EXPECT_EQ(Dims(Shape(ints.begin(), ints.end())), (std::vector<int64_t>{2, 5}));
  const std::vector<int64_t> dims = {7, 8, 9};
  const Shape from_vector = dims;
  EXPECT_EQ(Dims(from_vector), dims);
  EXPECT_TRUE(Shape{}.empty());
}

TEST(Shape, KeepsSixDimsInlineAndGrowsOntoTheHeapBeyond) {
  Shape shape{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(shape.capacity(), Shape::kInlineDims);
  const int64_t* inline_data = shape.data();
  shape.push_back(7);
  EXPECT_NE(shape.data(), inline_data);
  EXPECT_GT(shape.capacity(), Shape::kInlineDims);
  EXPECT_EQ(Dims(shape), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(shape.back(), 7);
}

TEST(Shape, CopiesAndMovesInlineAndHeapDims) {
  for (const Shape& original : {Shape{4, 5}, Shape{1, 2, 3, 4, 5, 6, 7, 8}}) {
    Shape copy = original;
    EXPECT_EQ(copy, original);
    Shape moved = std::move(copy);
    EXPECT_EQ(moved, original);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
    Shape assigned{9};
    assigned = std::move(moved);
    EXPECT_EQ(assigned, original);
    Shape copied{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    copied = original;
    EXPECT_EQ(copied, original);
  }
}

TEST(Shape, ComparesByDimsWithShapesAndVectors) {
  EXPECT_EQ((Shape{1, 4}), (Shape{1, 4}));
  EXPECT_NE((Shape{1, 4}), (Shape{4, 1}));
  EXPECT_NE((Shape{1, 4}), (Shape{1, 4, 1}));
  EXPECT_TRUE((Shape{1, 4}) == std::vector<int64_t>({1, 4}));
}

TEST(Shape, ConvertsToASpan) {
  const Shape shape{2, 3};
  const std::span<const int64_t> view = shape;
  EXPECT_EQ(view.data(), shape.data());
  EXPECT_EQ(view.size(), 2u);
}

TEST(Shape, ResizesInsertsAndErases) {
  Shape shape{2, 3};
  shape.resize(4, -1);
  EXPECT_EQ(Dims(shape), (std::vector<int64_t>{2, 3, -1, -1}));
  shape.resize(1);
  EXPECT_EQ(Dims(shape), (std::vector<int64_t>{2}));
  shape.insert(shape.begin(), 8);
  EXPECT_EQ(Dims(shape), (std::vector<int64_t>{8, 2}));
  const std::vector<int64_t> tail = {5, 6, 7, 8, 9, 10};
  shape.insert(shape.end(), tail.begin(), tail.end());
  EXPECT_EQ(Dims(shape), (std::vector<int64_t>{8, 2, 5, 6, 7, 8, 9, 10}));
  shape.erase(shape.begin());
  EXPECT_EQ(Dims(shape), (std::vector<int64_t>{2, 5, 6, 7, 8, 9, 10}));
  shape.erase(shape.begin() + 1, shape.end());
  EXPECT_EQ(Dims(shape), (std::vector<int64_t>{2}));
  shape[0] = 11;
  EXPECT_EQ(shape.front(), 11);
}

}  // namespace
}  // namespace inferd
