// PoolAllocator: a standard allocator over a std::pmr::memory_resource that, unlike
// std::pmr::polymorphic_allocator, is assignable and propagates with its container, as
// Beast's basic_fields requires. An HTTP session gives its request parser one over a
// per-connection pool, so a request's header field nodes reuse the blocks the previous
// request freed instead of calling malloc. Internal to src/http.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <type_traits>

namespace inferd::http {

template <typename T>
class PoolAllocator {
 public:
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;

  // The heap (new/delete), for a default-constructed message.
  PoolAllocator() noexcept = default;
  // `resource` must outlive every container that holds this allocator.
  explicit PoolAllocator(std::pmr::memory_resource* resource) noexcept : resource_(resource) {}
  template <typename U>
  PoolAllocator(const PoolAllocator<U>& other) noexcept : resource_(other.resource()) {}

  T* allocate(size_t n) {
    return static_cast<T*>(resource_->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { resource_->deallocate(p, n * sizeof(T), alignof(T)); }

  std::pmr::memory_resource* resource() const noexcept { return resource_; }

  template <typename U>
  bool operator==(const PoolAllocator<U>& other) const noexcept {
    return resource_ == other.resource();
  }

 private:
  std::pmr::memory_resource* resource_ = std::pmr::new_delete_resource();
};

}  // namespace inferd::http
