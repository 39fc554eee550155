// HandlerMemory: where one connection's asynchronous socket operations keep their state. Asio
// allocates an operation per read and per write through the completion handler's associated
// allocator; the default one caches a single block per thread, which the timeout's timer
// already takes, so every socket read and write called malloc. A session wraps its handlers
// with WithHandlerMemory: its operations then reuse two blocks that grow to the largest
// operation and stay. Single-threaded like the session (its io_context's thread). Internal to
// src/http.
#pragma once

#include <array>
#include <cstddef>
#include <new>
#include <utility>

namespace inferd::http {

class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;
  ~HandlerMemory() {
    for (Block& b : blocks_) ::operator delete(b.data);
  }

  // A free block that fits, else a free block regrown, else (both in use) the heap.
  void* Allocate(size_t size) {
    for (Block& b : blocks_) {
      if (!b.in_use && b.size >= size) {
        b.in_use = true;
        return b.data;
      }
    }
    for (Block& b : blocks_) {
      if (!b.in_use) {
        ::operator delete(b.data);
        b.data = nullptr;  // stays consistent if the next line throws
        b.size = 0;
        b.data = ::operator new(size);
        b.size = size;
        b.in_use = true;
        return b.data;
      }
    }
    return ::operator new(size);
  }

  void Deallocate(void* p) noexcept {
    for (Block& b : blocks_) {
      if (b.data == p) {
        b.in_use = false;
        return;
      }
    }
    ::operator delete(p);
  }

 private:
  struct Block {
    void* data = nullptr;
    size_t size = 0;
    bool in_use = false;
  };
  // A read and a write may be pending together (a disconnect watch's read beside an answer).
  std::array<Block, 2> blocks_;
};

// The standard allocator over a HandlerMemory, as Asio asks the handler for.
template <typename T>
class HandlerAllocator {
 public:
  using value_type = T;

  explicit HandlerAllocator(HandlerMemory* memory) noexcept : memory_(memory) {}
  template <typename U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory()) {}

  T* allocate(size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned operation");
    return static_cast<T*>(memory_->Allocate(n * sizeof(T)));
  }
  void deallocate(T* p, size_t) noexcept { memory_->Deallocate(p); }

  HandlerMemory* memory() const noexcept { return memory_; }
  template <typename U>
  bool operator==(const HandlerAllocator<U>& other) const noexcept {
    return memory_ == other.memory();
  }

 private:
  HandlerMemory* memory_;
};

// A completion handler whose operations allocate from `memory` (which must outlive them: the
// handler keeps its owner alive).
template <typename Handler>
class WithHandlerMemory {
 public:
  using allocator_type = HandlerAllocator<std::byte>;

  WithHandlerMemory(HandlerMemory& memory, Handler handler)
      : memory_(&memory), handler_(std::move(handler)) {}

  allocator_type get_allocator() const noexcept { return allocator_type(memory_); }

  template <typename... Args>
  void operator()(Args&&... args) {
    handler_(std::forward<Args>(args)...);
  }

 private:
  HandlerMemory* memory_;
  Handler handler_;
};

}  // namespace inferd::http
