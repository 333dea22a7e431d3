#define BOOST_TEST_MODULE actors_mcp_output
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

#include "actors/mcp_output.hpp"

using namespace actorexec;
using protocol::overflow_policy;
using protocol::stream_kind;

BOOST_AUTO_TEST_CASE(pages_give_every_byte_once_in_order) {
  // Random writes to both streams, read in random pages: the pages put
  // together are each stream's bytes, exactly.
  std::mt19937 rng{7};
  mcp_output out{1 << 20, overflow_policy::block};
  std::string want_out, want_err;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 300, static_cast<char>('a' + i % 26));
    auto s = rng() % 3 == 0 ? stream_kind::err : stream_kind::out;
    (s == stream_kind::out ? want_out : want_err) += bytes;
    out.append(s, bytes);
  }
  std::string got_out, got_err;
  std::uint64_t cursor = 0;
  while (cursor < out.end()) {
    auto page = out.read(cursor, 1 + rng() % 5000);
    BOOST_REQUIRE(page.next > cursor);
    got_out += page.out;
    got_err += page.err;
    cursor = page.next;
  }
  BOOST_TEST(got_out == want_out);
  BOOST_TEST(got_err == want_err);
  BOOST_TEST(out.produced(stream_kind::out) == want_out.size());
}

BOOST_AUTO_TEST_CASE(a_retried_read_gets_the_same_page) {
  mcp_output out{1024, overflow_policy::block};
  out.append(stream_kind::out, "hello world\n");
  auto a = out.read(0, 5);
  auto b = out.read(0, 5);
  BOOST_TEST(a.out == "hello");
  BOOST_TEST(b.out == a.out);
  BOOST_TEST(b.next == 5u);
  // Reading from 5 releases what lies before.
  auto c = out.read(5, 100);
  BOOST_TEST(c.out == " world\n");
  BOOST_TEST(out.retained() == 7u);
}

BOOST_AUTO_TEST_CASE(a_page_does_not_split_a_character) {
  mcp_output out{1024, overflow_policy::block};
  out.append(stream_kind::out, "ab\xc3\xa9"
                               "cd"); // 'é' at bytes 2..3
  auto p = out.read(0, 3);
  BOOST_TEST(p.out == "ab");
  BOOST_TEST(p.next == 2u);
  // A page too small for one character still makes progress.
  auto q = out.read(2, 1);
  BOOST_TEST(q.next == 3u);
}

BOOST_AUTO_TEST_CASE(block_takes_no_more_than_its_bound) {
  mcp_output out{100, overflow_policy::block};
  BOOST_TEST(out.room(0) == 100u);
  BOOST_TEST(out.room(30) == 70u);
  out.append(stream_kind::out, std::string(100, 'x'));
  BOOST_TEST(out.room(0) == 0u);
  BOOST_TEST(out.dropped() == 0u);
  out.release(60);
  BOOST_TEST(out.room(0) == 60u);
}

BOOST_AUTO_TEST_CASE(drop_oldest_counts_what_it_dropped_where_it_was) {
  mcp_output out{10, overflow_policy::drop_oldest};
  out.append(stream_kind::out, "0123456789");
  out.append(stream_kind::err, "abcde");
  BOOST_TEST(out.retained() == 10u);
  BOOST_TEST(out.dropped() == 5u);
  auto p = out.read(0, 100);
  BOOST_TEST(p.dropped == 5u);
  BOOST_TEST(p.out == "56789");
  BOOST_TEST(p.err == "abcde");
  BOOST_TEST(p.next == 15u);
  // A reader past the hole is told nothing was dropped there.
  auto q = out.read(7, 100);
  BOOST_TEST(q.dropped == 0u);
  BOOST_TEST(q.out == "789");
}

BOOST_AUTO_TEST_CASE(the_last_line_is_kept_for_progress) {
  mcp_output out{1024, overflow_policy::block};
  out.append(stream_kind::out, "first\nsec");
  BOOST_TEST(out.last_line() == "first");
  out.append(stream_kind::out, "ond\nthird");
  BOOST_TEST(out.last_line() == "second");
  out.append(stream_kind::err, std::string(500, 'y') + "\n");
  BOOST_TEST(out.last_line().size() == 200u); // cut, not grown
}
