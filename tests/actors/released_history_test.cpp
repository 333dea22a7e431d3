#define BOOST_TEST_MODULE actors_released_history
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/released_history.hpp"

using namespace actorexec;

namespace {

/// Pushes events `first`, `first + 1`, ... producing `sizes` bytes each,
/// after `before` bytes; returns the running totals.
std::vector<std::uint64_t> push_run(released_history& h, std::uint64_t first,
                                    const std::vector<std::uint64_t>& sizes,
                                    std::uint64_t before = 0) {
  std::vector<std::uint64_t> totals;
  auto total = before;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    total += sizes[i];
    h.push(first + i, sizes[i], total);
    totals.push_back(total);
  }
  return totals;
}

} // namespace

BOOST_AUTO_TEST_CASE(empty_history_knows_nothing) {
  released_history h;
  BOOST_TEST(h.size() == 0u);
  BOOST_TEST(!h.through(0).has_value());
  BOOST_TEST(!h.through(1).has_value());
}

BOOST_AUTO_TEST_CASE(totals_of_every_remembered_event) {
  released_history h;
  // One-byte, two-byte and long varints, and an empty event.
  std::vector<std::uint64_t> sizes{6, 0, 127, 128, 300, 1ull << 40, 16384, 7};
  auto totals = push_run(h, 5, sizes, 1000);
  BOOST_TEST(h.size() == sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto t = h.through(5 + i);
    BOOST_REQUIRE(t.has_value());
    BOOST_TEST(*t == totals[i]);
  }
  BOOST_TEST(!h.through(4).has_value());
  BOOST_TEST(!h.through(5 + sizes.size()).has_value());
}

BOOST_AUTO_TEST_CASE(forgets_the_oldest_beyond_its_size) {
  released_history h;
  // Sizes that change at every event: one run per event, two or three
  // bytes each, so the bound is reached after about 25,000 events.
  std::vector<std::uint64_t> sizes;
  for (std::size_t i = 0; i < 60000; ++i)
    sizes.push_back(i % 3 == 0 ? 200 : i % 7 + 1);
  auto totals = push_run(h, 1, sizes);
  BOOST_TEST(h.encoded_bytes() <= released_history::max_bytes);
  BOOST_TEST(h.size() < sizes.size());
  BOOST_TEST(h.size() > 15000u);
  auto first = 1 + sizes.size() - h.size();
  BOOST_TEST(h.first_seq().value() == first);
  BOOST_TEST(h.before() == totals[first - 2]);
  BOOST_TEST(!h.through(first - 1).has_value());
  for (auto seq = first; seq < 1 + sizes.size(); ++seq) {
    auto t = h.through(seq);
    BOOST_REQUIRE(t.has_value());
    BOOST_TEST(*t == totals[seq - 1]);
  }
}

BOOST_AUTO_TEST_CASE(events_of_one_size_take_one_run) {
  released_history h;
  // A million lines of `seq`-like output: five lengths, five runs.
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t i = 1; i <= 1000000; ++i)
    sizes.push_back(std::to_string(i).size() + 1);
  auto totals = push_run(h, 1, sizes);
  BOOST_TEST(h.size() == sizes.size());
  BOOST_TEST(h.encoded_bytes() < 40u);
  for (std::uint64_t seq :
       {1ull, 9ull, 10ull, 99999ull, 100000ull, 777777ull, 1000000ull})
    BOOST_TEST(h.through(seq).value() == totals[seq - 1]);
}

BOOST_AUTO_TEST_CASE(a_break_in_seq_starts_over) {
  released_history h;
  push_run(h, 1, {10, 20, 30});
  // Event 4 was acknowledged (not released): 9 follows no remembered one.
  h.push(9, 5, 105);
  BOOST_TEST(h.size() == 1u);
  BOOST_TEST(!h.through(3).has_value());
  BOOST_TEST(h.through(9).value() == 105u);
  h.push(10, 1, 106);
  BOOST_TEST(h.through(9).value() == 105u);
  BOOST_TEST(h.through(10).value() == 106u);
}
