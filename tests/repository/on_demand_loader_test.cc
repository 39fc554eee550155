#include "repository/on_demand_loader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace inferd::repository {
namespace {

TEST(OnDemandLoader, ConcurrentRequestsForOneModelShareASingleLoad) {
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::atomic<int> loads{0};
  OnDemandLoader loader([&](const std::string&) {
    ++loads;
    opened.wait();
    return Status::Ok();
  });
  std::promise<Status> a, b;
  loader.Request("m", [&](Status s) { a.set_value(s); });
  loader.Request("m", [&](Status s) { b.set_value(s); });
  EXPECT_TRUE(loader.Pending("m"));
  EXPECT_FALSE(loader.Pending("other"));
  gate.set_value();
  EXPECT_TRUE(a.get_future().get().ok());
  EXPECT_TRUE(b.get_future().get().ok());
  EXPECT_EQ(loads.load(), 1);
  EXPECT_FALSE(loader.Pending("m"));
}

TEST(OnDemandLoader, EveryWaiterGetsTheLoadsOutcome) {
  OnDemandLoader loader([](const std::string& name) { return NotFound("no " + name); });
  std::promise<Status> done;
  loader.Request("m", [&](Status s) { done.set_value(s); });
  Status s = done.get_future().get();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no m");
}

TEST(OnDemandLoader, ShutdownAnswersRequestsStillWaiting) {
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::promise<Status> first, second;
  std::promise<void> started;
  std::thread release;
  {
    OnDemandLoader loader([&](const std::string& name) {
      if (name == "a") started.set_value();
      opened.wait();
      return Status::Ok();
    });
    loader.Request("a", [&](Status s) { first.set_value(s); });
    loader.Request("b", [&](Status s) { second.set_value(s); });
    started.get_future().wait();  // "a" is loading, "b" waits behind it
    release = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      gate.set_value();
    });
  }  // the destructor lets "a" finish and does not start "b"
  release.join();
  EXPECT_TRUE(first.get_future().get().ok());
  EXPECT_EQ(second.get_future().get().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace inferd::repository
