#include "loadtest/hostile_report.hpp"

#include <algorithm>
#include <cstdio>

#include <boost/json/array.hpp>

#include "loadtest/report_json.hpp"

namespace json = boost::json;

namespace actorexec::loadtest {

namespace {

/// The round trips of `tmpl` in `p`: its own samples in a mix, the phase's
/// when it is the phase's only template; null when `p` does not run it.
const std::vector<double>* round_trip_samples(const phase_result& p,
                                              const std::string& tmpl) {
  auto it = p.by_template.find(tmpl);
  if (it != p.by_template.end())
    return &it->second.completion;
  if (p.templates.size() == 1 && p.templates.front() == tmpl)
    return &p.lat.completion;
  return nullptr;
}

double ratio(double x, double base) {
  return base > 0 ? x / base : 0;
}

bool within(const round_trip_spec& rt, const summary& s) {
  return s.count > 0 && (!rt.max_p50_ms || s.p50 <= *rt.max_p50_ms) &&
         (!rt.max_p99_ms || s.p99 <= *rt.max_p99_ms);
}

json::value optional_json(const std::optional<double>& x) {
  return x ? json::value(*x) : json::value(nullptr);
}

template <class Map>
void print_counts(std::ostream& out, const char* label, const Map& m) {
  if (m.empty())
    return;
  out << "; " << label;
  for (const auto& [k, v] : m)
    out << ' ' << k << '=' << v;
}

} // namespace

server_peak peak_of(const std::vector<server_sample>& samples, double from_s,
                    double to_s) {
  server_peak peak;
  for (const auto& s : samples) {
    if (s.t_s < from_s || s.t_s > to_s)
      continue;
    peak.rss_kb = std::max(peak.rss_kb, s.rss_kb);
    peak.hwm_kb = std::max(peak.hwm_kb, s.hwm_kb);
    peak.fds = std::max(peak.fds, s.fds);
    ++peak.samples;
  }
  return peak;
}

std::optional<server_peak> phase_server_peak(const run_report& r,
                                             const phase_result& p) {
  auto peak = peak_of(r.server, p.start_s, p.end_s);
  if (peak.samples == 0)
    return std::nullopt;
  return peak;
}

std::vector<round_trip_row> round_trips(const run_report& r) {
  std::vector<round_trip_row> rows;
  if (!r.round_trip)
    return rows;
  const auto& rt = *r.round_trip;
  summary base;
  for (const auto& p : r.phases)
    if (p.name == rt.baseline_phase)
      if (auto* v = round_trip_samples(p, rt.template_name))
        base = summarize(*v);
  for (const auto& p : r.phases) {
    auto* v = round_trip_samples(p, rt.template_name);
    if (v == nullptr)
      continue;
    round_trip_row row;
    row.phase = p.name;
    row.round_trip = summarize(*v);
    row.p50_vs_baseline = ratio(row.round_trip.p50, base.p50);
    row.p99_vs_baseline = ratio(row.round_trip.p99, base.p99);
    row.server = phase_server_peak(r, p);
    row.within_bounds = within(rt, row.round_trip);
    rows.push_back(std::move(row));
  }
  return rows;
}

json::object attacks_json(const phase_result& p) {
  json::object out;
  for (const auto& [name, a] : p.attacks)
    out[name] = {{"rounds", a.rounds},
                 {"sent", a.sent},
                 {"sent_bytes", a.sent_bytes},
                 {"answered", a.answered},
                 {"refused_by_rpc_code", counts_json(a.refused)},
                 {"closed_by_code", counts_json(a.closed)},
                 {"resets", a.resets}};
  return out;
}

json::object round_trip_json(const run_report& r) {
  const auto& rt = *r.round_trip;
  json::array phases;
  bool all = true;
  for (const auto& row : round_trips(r)) {
    all = all && row.within_bounds;
    const auto& s = row.round_trip;
    phases.push_back(json::object{
        {"phase", row.phase},
        {"count", s.count},
        {"p50", round3(s.p50)},
        {"p99", round3(s.p99)},
        {"max", round3(s.max)},
        {"p50_vs_baseline", round3(row.p50_vs_baseline)},
        {"p99_vs_baseline", round3(row.p99_vs_baseline)},
        {"server_peak_rss_kb",
         row.server ? json::value(row.server->rss_kb) : json::value(nullptr)},
        {"within_bounds", row.within_bounds}});
  }
  return {{"template", rt.template_name},
          {"metric", "execute_to_completed"},
          {"baseline_phase", rt.baseline_phase},
          {"max_p50_ms", optional_json(rt.max_p50_ms)},
          {"max_p99_ms", optional_json(rt.max_p99_ms)},
          {"all_within_bounds", all},
          {"phases", std::move(phases)}};
}

void print_attacks(std::ostream& out, const phase_result& p) {
  for (const auto& [name, a] : p.attacks) {
    char line[200];
    std::snprintf(line, sizeof line,
                  "  attack %s: %llu rounds; sent %llu (%.1f MB), "
                  "answered %llu",
                  name.c_str(), (unsigned long long)a.rounds,
                  (unsigned long long)a.sent, a.sent_bytes / 1e6,
                  (unsigned long long)a.answered);
    out << line;
    print_counts(out, "refused", a.refused);
    print_counts(out, "closed", a.closed);
    if (a.resets > 0)
      out << "; reset after our Close " << a.resets;
    out << '\n';
  }
}

void print_round_trip(std::ostream& out, const run_report& r) {
  if (!r.round_trip)
    return;
  const auto& rt = *r.round_trip;
  out << "round trip of [" << rt.template_name
      << "] (execute to process.completed, ms) against phase "
      << rt.baseline_phase;
  if (rt.max_p50_ms)
    out << "; bound p50 <= " << *rt.max_p50_ms;
  if (rt.max_p99_ms)
    out << "; bound p99 <= " << *rt.max_p99_ms;
  out << '\n';
  char line[200];
  std::snprintf(line, sizeof line, "  %-20s %6s %9s %9s %9s %7s %7s %9s  %s\n",
                "phase", "n", "p50", "p99", "max", "p50 x", "p99 x", "RSS MiB",
                "bounds");
  out << line;
  for (const auto& row : round_trips(r)) {
    const auto& s = row.round_trip;
    char rss[32] = "-";
    if (row.server)
      std::snprintf(rss, sizeof rss, "%.1f", row.server->rss_kb / 1024.0);
    std::snprintf(line, sizeof line,
                  "  %-20s %6zu %9.3f %9.3f %9.3f %7.2f %7.2f %9s  %s\n",
                  row.phase.c_str(), s.count, s.p50, s.p99, s.max,
                  row.p50_vs_baseline, row.p99_vs_baseline, rss,
                  row.within_bounds ? "within" : "OUTSIDE");
    out << line;
  }
}

} // namespace actorexec::loadtest
