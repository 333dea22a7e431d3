#include "loadtest/report.hpp"

#include <algorithm>
#include <cstdio>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "loadtest/hostile_report.hpp"
#include "loadtest/report_json.hpp"
#include "loadtest/stats.hpp"

namespace json = boost::json;

namespace actorexec::loadtest {

namespace {

/// Samples kept per metric in the report, enough for a histogram.
constexpr std::size_t plot_samples = 2000;

json::object summary_json(const std::vector<double>& samples) {
  auto s = summarize(samples);
  return {{"count", s.count},       {"min", round3(s.min)},
          {"mean", round3(s.mean)}, {"p50", round3(s.p50)},
          {"p90", round3(s.p90)},   {"p99", round3(s.p99)},
          {"max", round3(s.max)}};
}

json::array samples_json(const std::vector<double>& samples) {
  json::array out;
  for (auto x : thin_out(samples, plot_samples))
    out.push_back(round3(x));
  return out;
}

/// Named latency vectors, in report order.
std::vector<std::pair<const char*, const std::vector<double>*>>
metrics(const latencies& l) {
  return {{"connect", &l.connect},
          {"execute_to_started", &l.started},
          {"execute_to_first_output", &l.first_output},
          {"connect_to_first_output", &l.connect_to_first_output},
          {"execute_to_completed", &l.completion},
          {"drop_to_resumed", &l.resume}};
}

double per_s(std::uint64_t n, double s) {
  return s > 0 ? n / s : 0;
}

json::object latency_json(const latencies& l) {
  json::object out;
  for (auto [name, vec] : metrics(l))
    out[name] = summary_json(*vec);
  return out;
}

json::object phase_json(const phase_result& p) {
  auto lat = latency_json(p.lat);
  json::object samples;
  for (auto [name, vec] : metrics(p.lat))
    samples[name] = samples_json(*vec);
  json::object by_template;
  for (const auto& [name, l] : p.by_template)
    by_template[name] = latency_json(l);
  json::array failures;
  for (const auto& m : p.failure_messages)
    failures.push_back(json::string{m});
  return {
      {"name", p.name},
      {"passed", p.passed()},
      {"sessions",
       {{"planned", p.sessions_planned},
        {"started", p.sessions_started},
        {"completed", p.sessions_completed},
        {"failed", p.sessions_failed}}},
      {"executes_completed", p.executes_completed},
      {"wall_s", round3(p.wall_s)},
      {"start_s", round3(p.start_s)},
      {"end_s", round3(p.end_s)},
      {"latency_ms", std::move(lat)},
      {"latency_samples_ms", std::move(samples)},
      {"latency_ms_by_template", std::move(by_template)},
      {"frames", p.frames},
      {"bytes", p.bytes},
      {"wire_bytes", p.wire_bytes},
      {"frames_per_s", round3(per_s(p.frames, p.wall_s))},
      {"mb_per_s", round3(per_s(p.bytes, p.wall_s) / 1e6)},
      {"wire_mb_per_s", round3(per_s(p.wire_bytes, p.wall_s) / 1e6)},
      {"errors",
       {{"total", p.errors()},
        {"max", p.max_errors},
        {"by_rpc_code", counts_json(p.rpc_errors)},
        {"by_close_code", counts_json(p.close_codes)},
        {"other", counts_json(p.other_errors)}}},
      {"gaps",
       {{"events", p.gap_events},
        {"dropped_bytes", p.gap_dropped_bytes},
        {"dropped_frames", p.gap_dropped_frames}}},
      {"resumes",
       {{"drops", p.drops},
        {"ok", p.resumes_ok},
        {"failed", p.resumes_failed},
        {"replay_frames", p.replay_frames},
        {"replay_bytes", p.replay_bytes}}},
      {"verify",
       {{"sessions", p.sessions_verified}, {"bytes", p.bytes_verified}}},
      {"expectation_failures", p.expectation_failures},
      {"failure_messages", std::move(failures)},
      {"peak_live_processes", p.peak_live_processes},
      {"peak_open_connections", p.peak_open_connections},
      {"client_cpu_s", round3(p.client_cpu_s)},
  };
}

/// The phase's object, with its attacks when it has hostile sessions.
json::object phase_report(const phase_result& p) {
  auto out = phase_json(p);
  if (!p.attacks.empty())
    out["attacks"] = attacks_json(p);
  return out;
}

/// The server's peaks while each phase ran.
json::array server_phases_json(const run_report& r) {
  json::array out;
  for (const auto& p : r.phases) {
    auto peak = peak_of(r.server, p.start_s, p.end_s);
    out.push_back(json::object{{"name", p.name},
                               {"peak_rss_kb", peak.rss_kb},
                               {"peak_hwm_kb", peak.hwm_kb},
                               {"peak_fds", peak.fds},
                               {"samples", peak.samples}});
  }
  return out;
}

json::object server_json(const run_report& r) {
  json::array samples;
  for (const auto& s : r.server)
    samples.push_back(
        json::array{round3(s.t_s), s.rss_kb, s.hwm_kb, s.fds, round3(s.cpu_s)});
  auto peak = peak_of(r.server);
  double cpu = 0;
  if (r.server.size() >= 2)
    cpu = r.server.back().cpu_s - r.server.front().cpu_s;
  return {{"source", r.server_source},
          {"pid", r.server_pid},
          {"metrics_url", r.metrics_url},
          {"sample_errors", r.server_sample_errors},
          {"peak_rss_kb", peak.rss_kb},
          {"peak_hwm_kb", peak.hwm_kb},
          {"peak_fds", peak.fds},
          {"cpu_s", round3(cpu)},
          {"phases", server_phases_json(r)},
          {"sample_columns",
           json::array{"t_s", "rss_kb", "hwm_kb", "fds", "cpu_s"}},
          {"samples", std::move(samples)}};
}

void print_latency_row(std::ostream& out, const char* name,
                       const std::vector<double>& v) {
  if (v.empty())
    return;
  auto s = summarize(v);
  char line[160];
  std::snprintf(line, sizeof line, "  %-24s %7zu %9.3f %9.3f %9.3f %9.3f\n",
                name, s.count, s.p50, s.p90, s.p99, s.max);
  out << line;
}

template <class Map>
void print_counts(std::ostream& out, const char* label, const Map& m) {
  if (m.empty())
    return;
  out << "  " << label << ":";
  for (const auto& [k, v] : m)
    out << ' ' << k << '=' << v;
  out << '\n';
}

void print_phase(std::ostream& out, const phase_result& p) {
  char line[256];
  out << "phase " << p.name << (p.passed() ? "  [PASS]" : "  [FAIL]") << '\n';
  std::snprintf(line, sizeof line,
                "  sessions %llu/%llu completed, %llu failed; %llu executes;"
                " wall %.3f s; client cpu %.3f s\n",
                (unsigned long long)p.sessions_completed,
                (unsigned long long)p.sessions_planned,
                (unsigned long long)p.sessions_failed,
                (unsigned long long)p.executes_completed, p.wall_s,
                p.client_cpu_s);
  out << line;
  std::snprintf(line, sizeof line, "  %-24s %7s %9s %9s %9s %9s\n",
                "latency (ms)", "n", "p50", "p90", "p99", "max");
  out << line;
  for (auto [name, vec] : metrics(p.lat))
    print_latency_row(out, name, *vec);
  for (const auto& [tmpl, l] : p.by_template) {
    out << "  [" << tmpl << "]\n";
    for (auto [name, vec] : metrics(l))
      print_latency_row(out, name, *vec);
  }
  std::snprintf(line, sizeof line,
                "  output %llu frames, %.3f MB: %.0f frames/s, %.2f MB/s"
                " (wire %.2f MB/s); peak live processes %llu\n",
                (unsigned long long)p.frames, p.bytes / 1e6,
                per_s(p.frames, p.wall_s), per_s(p.bytes, p.wall_s) / 1e6,
                per_s(p.wire_bytes, p.wall_s) / 1e6,
                (unsigned long long)p.peak_live_processes);
  out << line;
  std::snprintf(
      line, sizeof line,
      "  errors %llu (max %llu); gaps %llu (%llu bytes); drops %llu,"
      " resumes %llu ok %llu failed, replay %llu frames %llu bytes;"
      " verified %llu sessions %llu bytes\n",
      (unsigned long long)p.errors(), (unsigned long long)p.max_errors,
      (unsigned long long)p.gap_events, (unsigned long long)p.gap_dropped_bytes,
      (unsigned long long)p.drops, (unsigned long long)p.resumes_ok,
      (unsigned long long)p.resumes_failed, (unsigned long long)p.replay_frames,
      (unsigned long long)p.replay_bytes,
      (unsigned long long)p.sessions_verified,
      (unsigned long long)p.bytes_verified);
  out << line;
  print_counts(out, "rpc errors", p.rpc_errors);
  print_counts(out, "close codes", p.close_codes);
  print_counts(out, "other errors", p.other_errors);
  print_attacks(out, p);
  if (p.expectation_failures > 0) {
    out << "  expectation failures: " << p.expectation_failures << '\n';
    for (const auto& m : p.failure_messages)
      out << "    - " << m << '\n';
  }
}

} // namespace

std::uint64_t phase_result::errors() const {
  std::uint64_t n = 0;
  for (const auto& kv : rpc_errors)
    n += kv.second;
  for (const auto& kv : close_codes)
    n += kv.second;
  for (const auto& kv : other_errors)
    n += kv.second;
  return n;
}

bool phase_result::passed() const {
  return errors() <= max_errors && expectation_failures == 0 &&
         sessions_completed + sessions_failed == sessions_planned;
}

void phase_result::expectation_failed(std::string message) {
  ++expectation_failures;
  if (failure_messages.size() < 20)
    failure_messages.push_back(std::move(message));
}

bool run_report::passed() const {
  return std::all_of(phases.begin(), phases.end(),
                     [](const phase_result& p) { return p.passed(); });
}

std::string to_json(const run_report& r) {
  json::array phases;
  for (const auto& p : r.phases)
    phases.push_back(phase_report(p));
  json::object doc{
      {"scenario", r.scenario},
      {"url", r.url},
      {"passed", r.passed()},
      {"wall_s", round3(r.wall_s)},
      {"client",
       {{"cpu_user_s", round3(r.client_cpu_user_s)},
        {"cpu_sys_s", round3(r.client_cpu_sys_s)},
        {"threads", 1}}},
      {"phases", std::move(phases)},
  };
  if (!r.server_source.empty())
    doc["server"] = server_json(r);
  if (r.round_trip)
    doc["round_trip"] = round_trip_json(r);
  return json::serialize(doc) + "\n";
}

void print_summary(std::ostream& out, const run_report& r) {
  out << "scenario " << r.scenario << " against " << r.url << '\n';
  for (const auto& p : r.phases)
    print_phase(out, p);
  char line[256];
  std::snprintf(line, sizeof line,
                "run: wall %.3f s, client cpu %.3f s user + %.3f s sys\n",
                r.wall_s, r.client_cpu_user_s, r.client_cpu_sys_s);
  out << line;
  if (!r.server_source.empty() && !r.server.empty()) {
    auto peak = peak_of(r.server);
    auto who = r.server_source == "proc" ? "pid " + std::to_string(r.server_pid)
                                         : r.metrics_url;
    std::snprintf(line, sizeof line,
                  "server %s: peak RSS %.1f MiB, %s %.1f MiB, peak fds"
                  " %llu, cpu %.3f s over %zu samples\n",
                  who.c_str(), peak.rss_kb / 1024.0,
                  r.server_source == "proc" ? "VmHWM" : "sampled peak",
                  peak.hwm_kb / 1024.0, (unsigned long long)peak.fds,
                  r.server.back().cpu_s - r.server.front().cpu_s,
                  r.server.size());
    out << line;
  }
  if (r.server_sample_errors > 0)
    out << "server: " << r.server_sample_errors
        << " samples could not be taken\n";
  print_round_trip(out, r);
  out << (r.passed() ? "RESULT: PASS\n" : "RESULT: FAIL\n");
}

} // namespace actorexec::loadtest
