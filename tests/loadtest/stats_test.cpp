#define BOOST_TEST_MODULE loadtest_stats
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "loadtest/hostile_report.hpp"
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

server_sample at(double t_s, std::uint64_t rss_kb) {
  server_sample s;
  s.t_s = t_s;
  s.rss_kb = rss_kb;
  s.hwm_kb = rss_kb;
  s.fds = 10;
  return s;
}

/// A baseline phase of `echo` alone (round trips 1 to 4 ms, 0 to 1 s), an
/// attack phase where `echo` runs beside a flood (2 to 8 ms, 1 to 2 s), and
/// a phase without `echo`; RSS sampled in each.
run_report hostile_run() {
  run_report r;
  phase_result base;
  base.name = "baseline";
  base.templates = {"echo"};
  base.lat.completion = {1, 2, 3, 4};
  base.start_s = 0;
  base.end_s = 1;
  phase_result attack;
  attack.name = "flood";
  attack.templates = {"echo", "flood"};
  attack.by_template["echo"].completion = {2, 4, 6, 8};
  attack.lat.completion = {2, 4, 6, 8, 100};
  attack.start_s = 1;
  attack.end_s = 2;
  phase_result other;
  other.name = "other";
  other.templates = {"x"};
  other.lat.completion = {50};
  other.start_s = 2;
  other.end_s = 3;
  r.phases = {base, attack, other};
  r.server_source = "proc";
  r.server = {at(0.5, 1000), at(1.5, 5000), at(1.7, 3000), at(2.5, 2000)};
  round_trip_spec rt;
  rt.template_name = "echo";
  rt.baseline_phase = "baseline";
  rt.max_p50_ms = 3;
  rt.max_p99_ms = 7;
  r.round_trip = rt;
  return r;
}

BOOST_AUTO_TEST_CASE(round_trips_against_the_baseline) {
  auto r = hostile_run();
  auto rows = round_trips(r);
  BOOST_REQUIRE_EQUAL(rows.size(), 2u);
  BOOST_TEST(rows[0].phase == "baseline");
  BOOST_TEST(rows[0].round_trip.p50 == 2.0);
  BOOST_TEST(rows[0].round_trip.p99 == 4.0);
  BOOST_TEST(rows[0].p50_vs_baseline == 1.0);
  BOOST_TEST(rows[0].within_bounds);
  BOOST_REQUIRE(rows[0].server);
  BOOST_TEST(rows[0].server->rss_kb == 1000u);
  // The template's own samples, not the phase's (the flood's 100 ms).
  BOOST_TEST(rows[1].phase == "flood");
  BOOST_TEST(rows[1].round_trip.p50 == 4.0);
  BOOST_TEST(rows[1].round_trip.p99 == 8.0);
  BOOST_TEST(rows[1].p50_vs_baseline == 2.0);
  BOOST_TEST(rows[1].p99_vs_baseline == 2.0);
  BOOST_TEST(!rows[1].within_bounds);
  BOOST_TEST(rows[1].server->rss_kb == 5000u);
  BOOST_TEST(rows[1].server->samples == 2u);
  auto json = to_json(r);
  BOOST_TEST(json.find(R"("all_within_bounds":false)") != std::string::npos);
  BOOST_TEST(json.find(R"({"phase":"flood","count":4,"p50":4E0,"p99":8E0,)") !=
             std::string::npos);
  BOOST_TEST(
      json.find(
          R"({"name":"other","peak_rss_kb":2000,"peak_hwm_kb":2000,"peak_fds":10,"samples":1})") !=
      std::string::npos);
  // A benchmark: outside the bounds is reported, and the run still passes.
  BOOST_TEST(r.passed());
  std::ostringstream summary;
  print_summary(summary, r);
  BOOST_TEST(summary.str().find("OUTSIDE") != std::string::npos);
  BOOST_TEST(summary.str().find("RESULT: PASS") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_bounds_no_samples) {
  auto r = hostile_run();
  r.round_trip->max_p50_ms.reset();
  r.round_trip->max_p99_ms.reset();
  r.phases[1].by_template["echo"].completion.clear();
  auto rows = round_trips(r);
  BOOST_TEST(rows[0].within_bounds);
  // No round trip completed at all: that is out of any bound.
  BOOST_TEST(!rows[1].within_bounds);
  BOOST_TEST(rows[1].p50_vs_baseline == 0.0);
}

BOOST_AUTO_TEST_CASE(attacks_are_counted_apart_from_errors) {
  phase_result p;
  p.name = "ping";
  p.sessions_planned = 1;
  p.sessions_completed = 1;
  auto& a = p.attacks["ping_flood"];
  a.rounds = 3;
  a.sent = 3000;
  a.sent_bytes = 42000;
  a.answered = 600;
  a.closed[1008] = 3;
  auto& in = p.attacks["input_flood"];
  in.refused[-32006] = 97;
  in.refused[-32005] = 1;
  BOOST_TEST(p.errors() == 0u);
  BOOST_TEST(p.passed());
  run_report r;
  r.phases.push_back(p);
  auto json = to_json(r);
  BOOST_TEST(
      json.find(
          R"("ping_flood":{"rounds":3,"sent":3000,"sent_bytes":42000,"answered":600,"refused_by_rpc_code":{},"closed_by_code":{"1008":3},"resets":0})") !=
      std::string::npos);
  BOOST_TEST(json.find(R"("refused_by_rpc_code":{"-32006":97,"-32005":1})") !=
             std::string::npos);
  std::ostringstream summary;
  print_summary(summary, r);
  BOOST_TEST(summary.str().find("  attack ping_flood: 3 rounds; sent 3000 "
                                "(0.0 MB), answered 600; closed 1008=3\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
