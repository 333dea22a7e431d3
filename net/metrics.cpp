#include "net/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string_view>
#include <vector>

namespace actorexec::net {

namespace {

/// Writes samples of one metric family after its HELP and TYPE lines.
class family {
public:
  family(std::string& out, const char* name, const char* type, const char* help)
      : out_(out), name_(name) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  /// One sample; `labels` is the inside of the braces, or empty.
  family& sample(double value, std::string_view labels = {},
                 std::string_view suffix = {}) {
    out_ += name_;
    out_ += suffix;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += format(value);
    out_ += '\n';
    return *this;
  }

  static std::string format(double v) {
    if (std::isinf(v))
      return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    // Counters print as integers (not 1e+06); fractions as the shortest
    // text that reads back as `v`, fixed where %g would be (0.0005).
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
      std::snprintf(buf, sizeof(buf), "%.0f", v);
      return buf;
    }
    auto res =
        std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
    return std::string{buf, res.ptr};
  }

private:
  std::string& out_;
  std::string_view name_;
};

double get(const std::atomic<std::uint64_t>& x) {
  return static_cast<double>(x.load());
}

double get(const std::atomic<std::int64_t>& x) {
  auto v = x.load();
  return static_cast<double>(v < 0 ? 0 : v);
}

std::string label(const char* name, std::string_view value) {
  std::string s{name};
  s += "=\"";
  s += value;
  s += '"';
  return s;
}

/// One sample per slot of `counts` (an array indexed by an enum), labelled
/// `key` = the slot's entry of `names`, which lists the enum's values in
/// order (checked to be as many).
template <std::size_t N, class Counter>
void samples_by(family& f, const std::array<Counter, N>& counts,
                const char* key, const char* const (&names)[N]) {
  for (std::size_t i = 0; i < N; ++i)
    f.sample(get(counts[i]), label(key, names[i]));
}

void render_connections(std::string& out, const server_stats& s,
                        const metrics_limits& lim) {
  family{out, "actorexec_connections_active", "gauge",
         "Open WebSocket connections."}
      .sample(get(s.active_connections));
  family{out, "actorexec_connections_opened_total", "counter",
         "WebSocket connections opened since start."}
      .sample(get(s.connections_total));
  if (lim.max_connections > 0)
    family{out, "actorexec_connections_max", "gauge",
           "Most WebSocket connections allowed at once."}
        .sample(static_cast<double>(lim.max_connections));
  family rejected{out, "actorexec_connections_rejected_total", "counter",
                  "Requests (and connections, at the HTTP connection limit) "
                  "refused before a WebSocket opened, by reason."};
  // In the order of server_stats::rejection.
  samples_by(rejected, s.rejected_total, "reason",
             {"unauthorized", "forbidden_origin", "connection_limit",
              "http_connection_limit"});
  family{out, "actorexec_accept_failures_total", "counter",
         "Failed accepts (out of descriptors, mostly); each backs off."}
      .sample(get(s.accept_failures_total));
  family closes{out, "actorexec_websocket_closes_total", "counter",
                "Ended WebSocket connections by close code (1006: no Close "
                "frame)."};
  for (std::size_t i = 0; i < server_stats::close_codes.size(); ++i)
    closes.sample(get(s.ws_closes_total[i]),
                  label("code", std::to_string(server_stats::close_codes[i])));
  closes.sample(get(s.ws_closes_total.back()), label("code", "other"));
  family{out, "actorexec_heartbeat_timeouts_total", "counter",
         "Connections dropped after the heartbeat timeout."}
      .sample(get(s.heartbeat_timeouts_total));
  family errors{out, "actorexec_jsonrpc_errors_total", "counter",
                "JSON-RPC error responses by code."};
  for (std::size_t i = 0; i < server_stats::rpc_error_codes.size(); ++i)
    errors.sample(
        get(s.rpc_errors_total[i]),
        label("code", std::to_string(server_stats::rpc_error_codes[i])));
  errors.sample(get(s.rpc_errors_total.back()), label("code", "other"));
}

void render_sessions(std::string& out, const server_stats& s,
                     const metrics_limits& lim) {
  auto active = s.active_sessions.load();
  auto detached = s.detached_sessions.load();
  auto attached = active > detached ? active - detached : 0;
  family{out, "actorexec_sessions", "gauge", "Live sessions by state."}
      .sample(static_cast<double>(attached), label("state", "attached"))
      .sample(get(s.detached_sessions), label("state", "detached"));
  family{out, "actorexec_sessions_max", "gauge",
         "The session limit (MAX_SESSIONS)."}
      .sample(static_cast<double>(lim.max_sessions));
  family{out, "actorexec_sessions_created_total", "counter",
         "Sessions created since start."}
      .sample(get(s.sessions_total));
  family{out, "actorexec_sessions_expired_total", "counter",
         "Detached sessions that expired without a resume."}
      .sample(get(s.sessions_expired_total));
  family{out, "actorexec_resumes_total", "counter",
         "Sessions resumed by a new connection."}
      .sample(get(s.resumes_total));
}

void render_processes(std::string& out, const server_stats& s) {
  auto running = s.running_processes.load();
  auto paused = s.paused_processes.load();
  if (paused < 0)
    paused = 0;
  auto active = running > paused ? running - paused : 0;
  family{out, "actorexec_processes", "gauge",
         "Child processes not yet reaped, by state."}
      .sample(static_cast<double>(active), label("state", "running"))
      .sample(static_cast<double>(paused), label("state", "paused"));
  family{out, "actorexec_processes_started_total", "counter",
         "Child processes spawned since start."}
      .sample(get(s.processes_total));
  family completed{out, "actorexec_processes_completed_total", "counter",
                   "Child processes ended, by the status of "
                   "process.completed."};
  for (std::size_t i = 0; i < protocol::end_status_count; ++i)
    completed.sample(
        get(s.processes_completed_total[i]),
        label("status",
              protocol::to_string(static_cast<protocol::end_status>(i))));
  family{out, "actorexec_spawn_failures_total", "counter",
         "execute requests whose spawn failed."}
      .sample(get(s.spawn_failures_total));
  family hist{out, "actorexec_spawn_latency_seconds", "histogram",
              "Time from an execute request's arrival to a successful "
              "spawn."};
  auto& h = s.spawn_latency;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_histogram::bounds.size(); ++i) {
    cumulative += h.bucket(i);
    hist.sample(static_cast<double>(cumulative),
                label("le", family::format(latency_histogram::bounds[i])),
                "_bucket");
  }
  cumulative += h.bucket(latency_histogram::bounds.size());
  hist.sample(static_cast<double>(cumulative), label("le", "+Inf"), "_bucket");
  hist.sample(static_cast<double>(h.sum_ns()) / 1e9, {}, "_sum");
  hist.sample(static_cast<double>(cumulative), {}, "_count");
}

void render_output(std::string& out, const server_stats& s) {
  family{out, "actorexec_output_bytes_total", "counter",
         "Bytes read from children, by stream."}
      .sample(get(s.stdout_bytes_total), label("stream", "stdout"))
      .sample(get(s.stderr_bytes_total), label("stream", "stderr"));
  auto frames = s.output_frames_total.load();
  auto err_frames = s.stderr_frames_total.load();
  family{out, "actorexec_output_frames_total", "counter",
         "process.output frames sent, by stream."}
      .sample(
          static_cast<double>(frames > err_frames ? frames - err_frames : 0),
          label("stream", "stdout"))
      .sample(static_cast<double>(err_frames), label("stream", "stderr"));
  family{out, "actorexec_dropped_bytes_total", "counter",
         "Output bytes dropped under on_overflow drop_oldest."}
      .sample(get(s.dropped_bytes_total));
  family{out, "actorexec_dropped_frames_total", "counter",
         "Output frames dropped under on_overflow drop_oldest."}
      .sample(get(s.dropped_frames_total));
  family{out, "actorexec_backpressure_blocked_seconds_total", "counter",
         "Time children's pipes went unread because a client was behind."}
      .sample(static_cast<double>(s.backpressure_blocked_ns_total.load()) /
              1e9);
  family{out, "actorexec_window_borrowed_bytes", "gauge",
         "Output queued toward sockets beyond the sessions' guaranteed "
         "windows (bounded by window_budget_bytes)."}
      .sample(get(s.borrowed_window_bytes));
}

void render_process(std::string& out, const process_sample& p) {
  family{out, "process_resident_memory_bytes", "gauge",
         "Resident memory size in bytes."}
      .sample(p.resident_memory_bytes);
  family{out, "process_virtual_memory_bytes", "gauge",
         "Virtual memory size in bytes."}
      .sample(p.virtual_memory_bytes);
  family{out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds."}
      .sample(p.cpu_seconds);
  family{out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds."}
      .sample(p.start_time_seconds);
  family{out, "process_open_fds", "gauge", "Number of open file descriptors."}
      .sample(p.open_fds);
  family{out, "process_max_fds", "gauge",
         "Maximum number of open file descriptors."}
      .sample(p.max_fds);
}

/// Seconds since the epoch at which the machine booted (`btime`).
std::optional<double> boot_time() {
  std::ifstream in{"/proc/stat"};
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value)
      return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

double count_open_fds() {
  auto dir = ::opendir("/proc/self/fd");
  if (!dir)
    return 0;
  double n = 0;
  auto own = ::dirfd(dir);
  while (auto e = ::readdir(dir)) {
    if (e->d_name[0] == '.')
      continue;
    // Skip the descriptor reading the directory: it exists only for this.
    if (std::atoi(e->d_name) != own)
      ++n;
  }
  ::closedir(dir);
  return n;
}

} // namespace

std::optional<process_sample> sample_process() {
  std::ifstream in{"/proc/self/stat"};
  std::string stat{std::istreambuf_iterator<char>{in}, {}};
  // The command name may hold spaces and parentheses; fields follow the
  // last ')'. After it: state is field 3, utime 14, stime 15, starttime 22,
  // vsize 23, rss 24 (proc(5)).
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream fields{stat.substr(close + 2)};
  std::string field;
  std::vector<std::string> f;
  while (fields >> field)
    f.push_back(field);
  if (f.size() < 22)
    return std::nullopt;
  auto at = [&](int n) { return std::strtod(f[n - 3].c_str(), nullptr); };
  auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  process_sample p;
  p.cpu_seconds = (at(14) + at(15)) / ticks;
  p.virtual_memory_bytes = at(23);
  p.resident_memory_bytes = at(24) * page;
  if (auto bt = boot_time())
    p.start_time_seconds = *bt + at(22) / ticks;
  p.open_fds = count_open_fds();
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0)
    p.max_fds = rl.rlim_cur == RLIM_INFINITY
                    ? std::numeric_limits<double>::infinity()
                    : static_cast<double>(rl.rlim_cur);
  return p;
}

std::string render_metrics(const server_stats& stats,
                           const metrics_limits& limits,
                           const std::optional<process_sample>& proc) {
  std::string out;
  out.reserve(8 * 1024);
  family{out, "actorexec_build_info", "gauge",
         "Always 1; the version is in the label."}
      .sample(1, label("version", ACTOREXEC_VERSION));
  family{out, "actorexec_draining", "gauge",
         "1 while the server shuts down gracefully."}
      .sample(stats.draining.load() ? 1 : 0);
  render_connections(out, stats, limits);
  render_sessions(out, stats, limits);
  render_processes(out, stats);
  render_output(out, stats);
  if (proc)
    render_process(out, *proc);
  return out;
}

} // namespace actorexec::net
