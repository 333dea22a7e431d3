#define BOOST_TEST_MODULE loadtest_stats
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "loadtest/report.hpp"
#include "loadtest/stats.hpp"
#include "loadtest/verifier.hpp"

using namespace actorexec::loadtest;

BOOST_AUTO_TEST_SUITE(percentiles)

BOOST_AUTO_TEST_CASE(nearest_rank_on_1_to_100) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i)
    v.push_back(i);
  BOOST_TEST(percentile(v, 50) == 50.0);
  BOOST_TEST(percentile(v, 90) == 90.0);
  BOOST_TEST(percentile(v, 99) == 99.0);
  BOOST_TEST(percentile(v, 100) == 100.0);
  BOOST_TEST(percentile(v, 0.5) == 1.0);
}

BOOST_AUTO_TEST_CASE(nearest_rank_on_small_sets) {
  BOOST_TEST(percentile({}, 50) == 0.0);
  BOOST_TEST(percentile({7}, 50) == 7.0);
  BOOST_TEST(percentile({7}, 99) == 7.0);
  // Ten samples: p50 is the 5th, p90 the 9th, p99 the 10th.
  std::vector<double> ten{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  BOOST_TEST(percentile(ten, 50) == 5.0);
  BOOST_TEST(percentile(ten, 90) == 9.0);
  BOOST_TEST(percentile(ten, 99) == 10.0);
  // Four samples: p50 rank 2, p90 rank ceil(3.6) = 4.
  std::vector<double> four{10, 20, 30, 40};
  BOOST_TEST(percentile(four, 50) == 20.0);
  BOOST_TEST(percentile(four, 90) == 40.0);
}

BOOST_AUTO_TEST_CASE(summarize_sorts_and_averages) {
  auto s = summarize({5, 1, 4, 2, 3});
  BOOST_TEST(s.count == 5u);
  BOOST_TEST(s.min == 1.0);
  BOOST_TEST(s.max == 5.0);
  BOOST_TEST(s.mean == 3.0);
  BOOST_TEST(s.p50 == 3.0);
  BOOST_TEST(s.p90 == 5.0);
  BOOST_TEST(s.p99 == 5.0);
  auto empty = summarize({});
  BOOST_TEST(empty.count == 0u);
  BOOST_TEST(empty.max == 0.0);
}

BOOST_AUTO_TEST_CASE(summarize_1000_samples_with_an_outlier) {
  std::vector<double> v(999, 1.0);
  v.push_back(500.0);
  auto s = summarize(v);
  BOOST_TEST(s.p50 == 1.0);
  BOOST_TEST(s.p99 == 1.0);
  BOOST_TEST(s.max == 500.0);
}

BOOST_AUTO_TEST_CASE(thin_out_keeps_the_shape) {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i)
    v.push_back(999 - i);
  auto t = thin_out(v, 10);
  BOOST_REQUIRE_EQUAL(t.size(), 10u);
  BOOST_TEST(t.front() == 0.0);
  BOOST_TEST(t.back() == 900.0);
  BOOST_TEST(thin_out({1, 2}, 10).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(verification)

verify_spec seq_spec(std::int64_t from, std::int64_t to) {
  verify_spec s;
  s.what = verify_spec::kind::seq;
  s.seq_from = from;
  s.seq_to = to;
  return s;
}

BOOST_AUTO_TEST_CASE(seq_in_arbitrary_pieces) {
  auto spec = seq_spec(1, 12);
  verifier v{spec};
  std::string all;
  for (int i = 1; i <= 12; ++i)
    all += std::to_string(i) + "\n";
  // Pieces that cut lines anywhere, as chunks framing does.
  for (std::size_t i = 0; i < all.size(); i += 4)
    v.feed(std::string_view{all}.substr(i, 4));
  BOOST_TEST(v.finish());
  BOOST_TEST(v.matched() == all.size());
  BOOST_TEST(spec.expected_bytes() == all.size());
}

BOOST_AUTO_TEST_CASE(mismatch_is_located) {
  auto spec = seq_spec(1, 3);
  verifier v{spec};
  v.feed("1\n3\n");
  BOOST_TEST(!v.finish());
  BOOST_TEST(v.failure() == "mismatch at byte 2: expected \"2\\n\", got "
                            "\"3\\n\"");
}

BOOST_AUTO_TEST_CASE(short_and_extra_output) {
  auto spec = seq_spec(1, 3);
  verifier shorter{spec};
  shorter.feed("1\n2\n");
  BOOST_TEST(!shorter.finish());
  BOOST_TEST(shorter.failure() == "output ended after 4 bytes; expected 6");
  verifier longer{spec};
  longer.feed("1\n2\n3\n4\n");
  BOOST_TEST(!longer.finish());
  BOOST_TEST(longer.failure() == "extra output at byte 6: \"4\\n\"");
}

BOOST_AUTO_TEST_CASE(text_and_repeated_lines) {
  verify_spec text;
  text.what = verify_spec::kind::text;
  text.text = "hello\n";
  verifier t{text};
  t.feed("hel");
  t.feed("lo\n");
  BOOST_TEST(t.finish());
  verify_spec lines;
  lines.what = verify_spec::kind::repeat_line;
  lines.text = "ab";
  lines.count = 3;
  verifier l{lines};
  l.feed("ab\nab\nab\n");
  BOOST_TEST(l.finish());
  verify_spec empty;
  empty.what = verify_spec::kind::text;
  verifier e{empty};
  BOOST_TEST(e.finish());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(pass_and_fail) {
  phase_result p;
  p.sessions_planned = 2;
  p.sessions_completed = 2;
  BOOST_TEST(p.passed());
  p.other_errors["timeout"] = 1;
  BOOST_TEST(p.errors() == 1u);
  BOOST_TEST(!p.passed());
  p.max_errors = 1;
  BOOST_TEST(p.passed());
  p.expectation_failed("x");
  BOOST_TEST(!p.passed());
  run_report r;
  r.phases.push_back(p);
  auto json = to_json(r);
  BOOST_TEST(json.find("\"passed\":false") != std::string::npos);
  BOOST_TEST(json.find("\"failure_messages\":[\"x\"]") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
