// Shape: a tensor's dims, row-major, as a small vector of int64_t that keeps up to six dims
// inline and only goes to the heap beyond that, so a request's usual shapes cost no allocation.
//
// Hand-written rather than absl::InlinedVector or boost::container::small_vector: with gcc 12
// both draw -Werror false positives (maybe-uninitialized on moving an empty InlinedVector,
// stringop-overread in Boost's copy helpers). Only the vector API the code base uses is here.
// It is a contiguous range, so it converts to std::span<const int64_t> implicitly.
// Not thread-safe for mutation, like std::vector.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <vector>

namespace inferd {

class Shape {
 public:
  using value_type = int64_t;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;

  // Dims held without a heap allocation.
  static constexpr size_t kInlineDims = 6;

  Shape() noexcept = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  template <std::input_iterator It>
  Shape(It first, It last) {
    assign(first, last);
  }
  explicit Shape(std::span<const int64_t> dims) { assign(dims.begin(), dims.end()); }
  // Implicit, so engine and config dims (std::vector) go where a Shape is wanted.
  Shape(const std::vector<int64_t>& dims)  // NOLINT(google-explicit-constructor)
  {
    assign(dims.begin(), dims.end());
  }

  Shape(const Shape& other) { assign(other.begin(), other.end()); }
  Shape(Shape&& other) noexcept { Steal(other); }
  Shape& operator=(const Shape& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this != &other) {
      heap_.reset();
      capacity_ = kInlineDims;
      Steal(other);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<int64_t> dims) {
    assign(dims.begin(), dims.end());
    return *this;
  }
  ~Shape() = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }

  int64_t* data() { return heap_ ? heap_.get() : inline_; }
  const int64_t* data() const { return heap_ ? heap_.get() : inline_; }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }

  int64_t& operator[](size_t i) { return data()[i]; }
  const int64_t& operator[](size_t i) const { return data()[i]; }
  int64_t& front() { return data()[0]; }
  const int64_t& front() const { return data()[0]; }
  int64_t& back() { return data()[size_ - 1]; }
  const int64_t& back() const { return data()[size_ - 1]; }

  void reserve(size_t capacity) {
    if (capacity > capacity_) Grow(capacity);
  }
  void clear() { size_ = 0; }
  void push_back(int64_t dim) {
    if (size_ == capacity_) Grow(capacity_ * 2);
    data()[size_++] = dim;
  }
  void pop_back() { --size_; }
  // New dims (if any) are `value`.
  void resize(size_t size, int64_t value = 0) {
    reserve(size);
    if (size > size_) std::fill(data() + size_, data() + size, value);
    size_ = size;
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    if constexpr (std::forward_iterator<It>) reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  // Inserts before `pos`; returns the first inserted position.
  iterator insert(const_iterator pos, int64_t dim) { return insert(pos, &dim, &dim + 1); }
  template <std::forward_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_t at = static_cast<size_t>(pos - begin());
    const size_t count = static_cast<size_t>(std::distance(first, last));
    reserve(size_ + count);
    int64_t* base = data();
    std::move_backward(base + at, base + size_, base + size_ + count);
    for (size_t i = 0; i < count; ++i, ++first) base[at + i] = static_cast<int64_t>(*first);
    size_ += count;
    return base + at;
  }
  // Erases [first, last); returns the position after the erased dims.
  iterator erase(const_iterator first, const_iterator last) {
    int64_t* base = data();
    const size_t at = static_cast<size_t>(first - base);
    const size_t count = static_cast<size_t>(last - first);
    std::move(base + at + count, base + size_, base + at);
    size_ -= count;
    return base + at;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }

  friend bool operator==(const Shape& a, const Shape& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  void Grow(size_t capacity) {
    auto grown = std::make_unique_for_overwrite<int64_t[]>(capacity);
    std::copy_n(data(), size_, grown.get());
    heap_ = std::move(grown);
    capacity_ = capacity;
  }
  // Takes `other`'s dims (its heap block, or a copy of its inline ones) and leaves it empty.
  void Steal(Shape& other) noexcept {
    if (other.heap_) {
      heap_ = std::move(other.heap_);
      capacity_ = other.capacity_;
    } else {
      std::copy_n(other.inline_, other.size_, inline_);
    }
    size_ = other.size_;
    other.size_ = 0;
    other.capacity_ = kInlineDims;
  }

  std::unique_ptr<int64_t[]> heap_;  // null while the dims fit inline_
  size_t size_ = 0;
  size_t capacity_ = kInlineDims;
  int64_t inline_[kInlineDims] = {};
};

}  // namespace inferd
