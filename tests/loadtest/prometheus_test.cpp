#define BOOST_TEST_MODULE loadtest_prometheus
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "loadtest/prometheus.hpp"
#include "loadtest/sampler.hpp"

using namespace actorexec::loadtest;

namespace {

/// What actorexec's /metrics serves, abridged: other families around the
/// process_* ones, labels, HELP and TYPE lines.
const std::string exposition = R"(# HELP actorexec_build_info Always 1.
# TYPE actorexec_build_info gauge
actorexec_build_info{version="0.1.0"} 1
# HELP actorexec_sessions Live sessions by state.
# TYPE actorexec_sessions gauge
actorexec_sessions{state="attached"} 3
actorexec_spawn_latency_seconds_bucket{le="+Inf"} 12
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 23068672
# TYPE process_virtual_memory_bytes gauge
process_virtual_memory_bytes 512000000
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.25
# TYPE process_open_fds gauge
process_open_fds 17
process_max_fds +Inf
)";

std::string parse_error(const std::string& text) {
  server_sample s;
  std::string error;
  BOOST_TEST(!parse_process_metrics(text, s, error));
  return error;
}

} // namespace

BOOST_AUTO_TEST_SUITE(parse)

BOOST_AUTO_TEST_CASE(reads_the_three_process_metrics) {
  server_sample s;
  s.hwm_kb = 99;
  std::string error;
  BOOST_TEST(parse_process_metrics(exposition, s, error), error);
  BOOST_TEST(s.rss_kb == 22528u); // 23068672 / 1024
  BOOST_TEST(s.fds == 17u);
  BOOST_TEST(s.cpu_s == 1.25);
  BOOST_TEST(s.hwm_kb == 99u); // left to the caller
}

BOOST_AUTO_TEST_CASE(accepts_crlf_timestamps_and_exponents) {
  server_sample s;
  std::string error;
  auto text = "process_resident_memory_bytes 2.048e3 1700000000000\r\n"
              "process_open_fds\t5\r\n"
              "process_cpu_seconds_total 0\r\n";
  BOOST_TEST(parse_process_metrics(text, s, error), error);
  BOOST_TEST(s.rss_kb == 2u);
  BOOST_TEST(s.fds == 5u);
  BOOST_TEST(s.cpu_s == 0.0);
}

BOOST_AUTO_TEST_CASE(ignores_labelled_samples_of_the_same_name) {
  server_sample s;
  std::string error;
  auto text = "process_open_fds{job=\"other\"} 1000\n"
              "process_open_fds 4\n"
              "process_resident_memory_bytes 1024\n"
              "process_cpu_seconds_total 2\n";
  BOOST_TEST(parse_process_metrics(text, s, error), error);
  BOOST_TEST(s.fds == 4u);
}

BOOST_AUTO_TEST_CASE(names_a_missing_metric) {
  BOOST_TEST(parse_error("process_open_fds 4\nprocess_cpu_seconds_total 2\n") ==
             "process_resident_memory_bytes not exposed (a server without "
             "/proc leaves process_* out)");
  BOOST_TEST(parse_error("").find("not exposed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(names_the_malformed_line) {
  BOOST_TEST(parse_error("# ok\nprocess_open_fds\n") ==
             "line 2: expected a blank and a value after the name");
  BOOST_TEST(parse_error("process_open_fds \n") == "line 1: missing value");
  BOOST_TEST(parse_error("x{a=\"}\" 1\n") == "line 1: unclosed label braces");
  BOOST_TEST(parse_error("<html>\n") == "line 1: expected a metric name");
  BOOST_TEST(parse_error("process_open_fds{a=\"b\"}x 1\n") ==
             "line 1: expected a blank and a value after the name");
}

BOOST_AUTO_TEST_CASE(rejects_values_that_are_no_amount) {
  BOOST_TEST(parse_error("process_open_fds abc\n") ==
             "line 1: process_open_fds: not a non-negative number: \"abc\"");
  BOOST_TEST(parse_error("process_cpu_seconds_total -1\n") ==
             "line 1: process_cpu_seconds_total: not a non-negative number: "
             "\"-1\"");
  BOOST_TEST(parse_error("process_resident_memory_bytes +Inf\n") ==
             "line 1: process_resident_memory_bytes: not a non-negative "
             "number: \"+Inf\"");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reader)

BOOST_AUTO_TEST_CASE(takes_rss_as_hwm_and_counts_failures) {
  int call = 0;
  metrics_reader read{[&](std::string& body, std::string& error) {
    switch (call++) {
    case 0:
      body = "process_resident_memory_bytes 4096\n"
             "process_open_fds 3\nprocess_cpu_seconds_total 1\n";
      return true;
    case 1:
      error = "GET /metrics: Connection refused";
      return false;
    case 2:
      body = "process_resident_memory_bytes 2048\n"
             "process_open_fds 3\nprocess_cpu_seconds_total 1.5\n";
      return true;
    default:
      body = "garbage here\n";
      return true;
    }
  }};
  auto a = read();
  BOOST_REQUIRE(a);
  BOOST_TEST(a->rss_kb == 4u);
  BOOST_TEST(a->hwm_kb == 4u);
  BOOST_TEST(!read());
  auto b = read();
  BOOST_REQUIRE(b);
  BOOST_TEST(b->rss_kb == 2u);
  BOOST_TEST(b->hwm_kb == 2u); // the sampler holds the peak
  BOOST_TEST(!read());
  BOOST_TEST(read.failures() == 2u);
  BOOST_TEST(read.first_error() == "GET /metrics: Connection refused");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(high_water)

server_sample sample(std::uint64_t rss_kb, std::uint64_t hwm_kb) {
  server_sample s;
  s.rss_kb = rss_kb;
  s.hwm_kb = hwm_kb;
  return s;
}

BOOST_AUTO_TEST_CASE(never_goes_down_nor_below_rss) {
  // What /proc showed across a peak (VmRSS, VmHWM), and /metrics' RSS only.
  const std::vector<server_sample> read = {
      sample(13752, 13752), sample(13880, 13880), sample(12424, 13652),
      sample(14604, 14604), sample(14320, 14404), sample(9000, 0)};
  const std::vector<std::uint64_t> want = {13752, 13880, 13880,
                                           14604, 14604, 14604};
  std::uint64_t peak = 0;
  for (std::size_t i = 0; i < read.size(); ++i) {
    auto s = read[i];
    hold_high_water(s, peak);
    BOOST_TEST(s.hwm_kb == want[i]);
    BOOST_TEST(s.rss_kb == read[i].rss_kb);
  }
}

BOOST_AUTO_TEST_CASE(the_sampler_reports_a_monotone_hwm) {
  // A source that replays a dip, then has nothing more; the test waits
  // (bounded) until it was asked for every sample, never for a time.
  const std::vector<server_sample> script = {sample(100, 100), sample(120, 120),
                                             sample(90, 110), sample(130, 130),
                                             sample(80, 125)};
  std::mutex mtx;
  std::condition_variable cv;
  std::size_t calls = 0;
  server_sampler sampler{[&]() -> std::optional<server_sample> {
                           std::lock_guard<std::mutex> guard{mtx};
                           auto i = calls++;
                           cv.notify_all();
                           if (i < script.size())
                             return script[i];
                           return std::nullopt;
                         },
                         std::chrono::milliseconds(1),
                         std::chrono::steady_clock::now()};
  {
    std::unique_lock<std::mutex> lock{mtx};
    BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(30),
                              [&] { return calls > script.size(); }));
  }
  auto got = sampler.stop();
  BOOST_REQUIRE(got.size() == script.size());
  const std::vector<std::uint64_t> want = {100, 120, 120, 130, 130};
  for (std::size_t i = 0; i < got.size(); ++i)
    BOOST_TEST(got[i].hwm_kb == want[i]);
}

BOOST_AUTO_TEST_SUITE_END()
