#define BOOST_TEST_MODULE net_log_throttle
#include <boost/test/unit_test.hpp>

#include "net/log_throttle.hpp"

using namespace actorexec::net;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(net_log_throttle)

BOOST_AUTO_TEST_CASE(once_per_interval_with_the_count_held_back) {
  log_throttle t{seconds{1}};
  log_throttle::clock::time_point start{seconds{100}};
  BOOST_TEST(t.admit(start).value() == 0u); // the first at once
  for (int i = 1; i <= 5; ++i)
    BOOST_TEST(!t.admit(start + milliseconds{i * 100}));
  BOOST_TEST(t.admit(start + seconds{1}).value() == 5u);
  BOOST_TEST(!t.admit(start + milliseconds{1500}));
  // Long quiet: the next one goes through at once, with what was held back.
  BOOST_TEST(t.admit(start + seconds{60}).value() == 1u);
  BOOST_TEST(t.admit(start + seconds{61}).value() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
