#define BOOST_TEST_MODULE net_probes
#include <boost/test/unit_test.hpp>

#include "net/admission.hpp"
#include "net/probes.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace actorexec;
using namespace actorexec::net;

BOOST_AUTO_TEST_SUITE(net_probes)

BOOST_AUTO_TEST_CASE(ready_while_accepting) {
  server_stats s;
  BOOST_TEST(not_ready_reason(s, {3, false}).empty());
  s.active_sessions = 2;
  BOOST_TEST(not_ready_reason(s, {3, false}).empty());
}

BOOST_AUTO_TEST_CASE(not_ready_at_the_session_limit) {
  server_stats s;
  s.active_sessions = 3;
  BOOST_TEST(not_ready_reason(s, {3, false}) == "session_limit");
  // Detached sessions keep their place until they expire.
  s.detached_sessions = 3;
  BOOST_TEST(not_ready_reason(s, {3, false}) == "session_limit");
  s.active_sessions = 2;
  s.detached_sessions = 0;
  BOOST_TEST(not_ready_reason(s, {3, false}).empty());
}

BOOST_AUTO_TEST_CASE(not_ready_while_draining) {
  server_stats s;
  s.draining = true;
  BOOST_TEST(not_ready_reason(s, {3, false}) == "draining");
  // Draining wins over every other reason.
  s.active_sessions = 5;
  BOOST_TEST(not_ready_reason(s, {3, true}) == "draining");
}

BOOST_AUTO_TEST_CASE(not_ready_at_the_connection_limit) {
  server_stats s;
  BOOST_TEST(not_ready_reason(s, {3, true}) == "connection_limit");
}

BOOST_AUTO_TEST_CASE(health_reports_counts_and_limit) {
  server_stats s;
  s.active_sessions = 4;
  s.detached_sessions = 1;
  auto h = health(s, 9);
  BOOST_TEST(h.at("status").as_string() == "healthy");
  BOOST_TEST(h.at("service").as_string() == "actorexec");
  BOOST_TEST(h.at("active_sessions").as_int64() == 4);
  BOOST_TEST(h.at("detached_sessions").as_int64() == 1);
  BOOST_TEST(h.at("max_sessions").to_number<std::int64_t>() == 9);
  BOOST_TEST(h.at("uptime_seconds").as_double() >= 0);
}

BOOST_AUTO_TEST_CASE(admission_limits_total_and_per_address) {
  auto a = std::make_shared<admission>(3, 2);
  admission::refusal why;
  auto s1 = a->try_enter("10.0.0.1", why);
  auto s2 = a->try_enter("10.0.0.1", why);
  BOOST_TEST(static_cast<bool>(s1));
  BOOST_TEST(static_cast<bool>(s2));
  BOOST_TEST(!a->try_enter("10.0.0.1", why));
  BOOST_TEST((why == admission::refusal::per_address));
  auto s3 = a->try_enter("10.0.0.2", why);
  BOOST_TEST(static_cast<bool>(s3));
  BOOST_TEST(a->full());
  BOOST_TEST(!a->try_enter("10.0.0.3", why));
  BOOST_TEST((why == admission::refusal::total));
  s1.reset();
  BOOST_TEST(!a->full());
  BOOST_TEST(a->total() == 2u);
  auto s4 = a->try_enter("10.0.0.1", why);
  BOOST_TEST(static_cast<bool>(s4));
  BOOST_TEST((why == admission::refusal::none));
}

BOOST_AUTO_TEST_CASE(admission_zero_means_unlimited) {
  auto a = std::make_shared<admission>(0, 0);
  admission::refusal why;
  std::vector<admission::slot> held;
  for (int i = 0; i < 1000; ++i) {
    held.push_back(a->try_enter("10.0.0.1", why));
    BOOST_REQUIRE(static_cast<bool>(held.back()));
    BOOST_REQUIRE((why == admission::refusal::none));
  }
  BOOST_TEST(a->total() == 1000u);
  BOOST_TEST(!a->full());
  held.clear();
  BOOST_TEST(a->total() == 0u);
}

BOOST_AUTO_TEST_CASE(a_slot_outlives_its_admission_owner) {
  admission::slot s;
  std::weak_ptr<admission> weak;
  {
    auto a = std::make_shared<admission>(1, 1);
    weak = a;
    admission::refusal why = admission::refusal::total;
    s = a->try_enter("10.0.0.1", why);
    // The slot is a place taken, and says so.
    BOOST_REQUIRE(static_cast<bool>(s));
    BOOST_TEST((why == admission::refusal::none));
    BOOST_TEST(a->total() == 1u);
    BOOST_TEST(a->full());
  }
  {
    // The owner is gone; the slot keeps the admission alive, its place
    // still counted: a second connection is refused.
    auto a = weak.lock();
    BOOST_REQUIRE(a);
    BOOST_TEST(a->total() == 1u);
    admission::refusal why;
    BOOST_TEST(!a->try_enter("10.0.0.2", why));
    BOOST_TEST((why == admission::refusal::total));
    // Our reference and then the slot let go.
    a.reset();
    s.reset(); // must not touch freed memory (run under ASan)
  }
  // The last slot gone, so is the admission.
  BOOST_TEST(weak.expired());
}

BOOST_AUTO_TEST_CASE(releasing_a_slot_frees_its_address_place) {
  auto a = std::make_shared<admission>(0, 1);
  admission::refusal why;
  auto s1 = a->try_enter("10.0.0.1", why);
  BOOST_REQUIRE(static_cast<bool>(s1));
  BOOST_TEST(!a->try_enter("10.0.0.1", why));
  BOOST_TEST((why == admission::refusal::per_address));
  // A copy of the slot holds the same place: only the last copy frees it.
  auto copy = s1;
  s1.reset();
  BOOST_TEST(a->total() == 1u);
  BOOST_TEST(!a->try_enter("10.0.0.1", why));
  copy.reset();
  BOOST_TEST(a->total() == 0u);
  auto s2 = a->try_enter("10.0.0.1", why);
  BOOST_TEST(static_cast<bool>(s2));
  BOOST_TEST((why == admission::refusal::none));
  BOOST_TEST(a->total() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
