#define BOOST_TEST_MODULE net_metrics
#include <boost/test/unit_test.hpp>

#include "net/metrics.hpp"

#include <chrono>
#include <string>

using namespace actorexec;
using namespace actorexec::net;
using namespace std::chrono;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos ||
         text.rfind(line + "\n", 0) == 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_metrics)

BOOST_AUTO_TEST_CASE(counters_render_with_labels) {
  server_stats s;
  s.active_sessions = 5;
  s.detached_sessions = 2;
  s.running_processes = 3;
  s.paused_processes = 1;
  s.stdout_bytes_total = 1234;
  s.output_frames_total = 10;
  s.stderr_frames_total = 4;
  s.backpressure_blocked_ns_total = 1500000000;
  s.borrowed_window_bytes = 4096;
  s.count_rpc_error(-32601);
  s.count_rpc_error(-32601);
  s.count_rpc_error(12345);
  s.count_close(1000);
  s.count_close(4001);
  s.count_close(3000);
  s.count_completion(protocol::end_status::timed_out);
  s.count_rejection(server_stats::rejection::unauthorized);
  s.count_rejection(server_stats::rejection::http_connection_limit);
  s.accept_failures_total = 7;
  auto text = render_metrics(s, {100, 0}, std::nullopt);
  BOOST_TEST(has_line(text, R"(actorexec_sessions{state="attached"} 3)"));
  BOOST_TEST(has_line(text, R"(actorexec_sessions{state="detached"} 2)"));
  BOOST_TEST(has_line(text, "actorexec_sessions_max 100"));
  BOOST_TEST(has_line(text, R"(actorexec_processes{state="running"} 2)"));
  BOOST_TEST(has_line(text, R"(actorexec_processes{state="paused"} 1)"));
  BOOST_TEST(
      has_line(text, R"(actorexec_output_bytes_total{stream="stdout"} 1234)"));
  BOOST_TEST(
      has_line(text, R"(actorexec_output_frames_total{stream="stdout"} 6)"));
  BOOST_TEST(
      has_line(text, R"(actorexec_output_frames_total{stream="stderr"} 4)"));
  BOOST_TEST(
      has_line(text, "actorexec_backpressure_blocked_seconds_total 1.5"));
  BOOST_TEST(has_line(text, "actorexec_window_borrowed_bytes 4096"));
  BOOST_TEST(
      has_line(text, R"(actorexec_jsonrpc_errors_total{code="-32601"} 2)"));
  BOOST_TEST(
      has_line(text, R"(actorexec_jsonrpc_errors_total{code="other"} 1)"));
  BOOST_TEST(
      has_line(text, R"(actorexec_websocket_closes_total{code="1000"} 1)"));
  BOOST_TEST(
      has_line(text, R"(actorexec_websocket_closes_total{code="4001"} 1)"));
  BOOST_TEST(
      has_line(text, R"(actorexec_websocket_closes_total{code="other"} 1)"));
  BOOST_TEST(has_line(
      text, R"(actorexec_processes_completed_total{status="timed_out"} 1)"));
  BOOST_TEST(has_line(
      text,
      R"(actorexec_connections_rejected_total{reason="unauthorized"} 1)"));
  BOOST_TEST(has_line(
      text,
      R"(actorexec_connections_rejected_total{reason="http_connection_limit"} 1)"));
  BOOST_TEST(has_line(text, "actorexec_accept_failures_total 7"));
  // No limit configured: no gauge claiming one.
  BOOST_TEST(text.find("actorexec_connections_max") == std::string::npos);
  BOOST_TEST(text.find("process_resident_memory_bytes") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_family_has_help_and_type) {
  server_stats s;
  auto text = render_metrics(s, {1, 5}, sample_process());
  std::size_t families = 0, helps = 0;
  for (std::size_t pos = 0;
       (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos)
    ++families;
  for (std::size_t pos = 0;
       (pos = text.find("# HELP ", pos)) != std::string::npos; ++pos)
    ++helps;
  BOOST_TEST(families == helps);
  BOOST_TEST(families > 20u);
  BOOST_TEST(text.back() == '\n');
  BOOST_TEST(has_line(text, "actorexec_connections_max 5"));
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative) {
  server_stats s;
  s.spawn_latency.observe(microseconds{100}); // le 0.0005
  s.spawn_latency.observe(milliseconds{3});   // le 0.005
  s.spawn_latency.observe(milliseconds{3});   // le 0.005
  s.spawn_latency.observe(seconds{10});       // +Inf only
  auto text = render_metrics(s, {1, 0}, std::nullopt);
  auto b = [](const char* le) {
    return std::string{"actorexec_spawn_latency_seconds_bucket{le=\""} + le +
           "\"}";
  };
  BOOST_TEST(has_line(text, b("0.0005") + " 1"));
  BOOST_TEST(has_line(text, b("0.0025") + " 1"));
  BOOST_TEST(has_line(text, b("0.005") + " 3"));
  BOOST_TEST(has_line(text, b("2.5") + " 3"));
  BOOST_TEST(has_line(text, b("+Inf") + " 4"));
  BOOST_TEST(has_line(text, "actorexec_spawn_latency_seconds_count 4"));
  BOOST_TEST(has_line(text, "actorexec_spawn_latency_seconds_sum 10.0061"));
}

BOOST_AUTO_TEST_CASE(process_sample_reads_proc) {
  auto p = sample_process();
  BOOST_REQUIRE(p.has_value());
  BOOST_TEST(p->resident_memory_bytes > 0);
  BOOST_TEST(p->open_fds >= 3);
  BOOST_TEST(p->start_time_seconds > 1.5e9);
  auto now = duration_cast<seconds>(system_clock::now().time_since_epoch());
  BOOST_TEST(p->start_time_seconds <= static_cast<double>(now.count()) + 1);
  BOOST_TEST(p->cpu_seconds >= 0);
}

BOOST_AUTO_TEST_SUITE_END()
