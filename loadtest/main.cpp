// actorexec-load: runs a load-test scenario against an actorexec server (or,
// in raw mode, any WebSocket server such as websocketd) and reports latency,
// throughput, errors and the server's resources.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "loadtest/http_get.hpp"
#include "loadtest/phase_runner.hpp"
#include "loadtest/report.hpp"
#include "loadtest/sampler.hpp"
#include "loadtest/scenario.hpp"
#include "loadtest/upgrade_auth.hpp"

using namespace actorexec::loadtest;

namespace {

constexpr const char* usage = R"(usage: actorexec-load SCENARIO.json [options]
       actorexec-load --raw URL [options]

Runs a load-test scenario (see loadtest/README.md) and prints a summary.
Exit status: 0 every expectation met, 1 an expectation failed, 2 bad usage.

  --url URL            target (overrides the scenario's "url")
  --token-file FILE    send the token in FILE as Authorization: Bearer, with
                       the upgrade and to --metrics (a server started with
                       --auth-token-file); trailing whitespace is ignored
  --report FILE        also write the machine-readable JSON report to FILE
  --server-pid PID     sample the server's VmRSS, VmHWM, fds and CPU time
  --metrics URL        sample RSS, fds and CPU time from the server's
                       http://HOST:PORT/metrics instead
  --sample-ms N        sampling period of either (default 100)
  --scale F            multiply every phase's sessions and concurrency by F
  --quiet              no summary on stdout

Raw mode (a plain WebSocket peer such as websocketd): each connection
counts messages until the server closes it.
  --raw URL            run raw mode against URL instead of a scenario
  --sessions N         connections in total (default 1)
  --concurrency N      connections open at once (default: sessions)
  --expected-messages N  messages each connection must receive
  --duration-cap-ms N  cut-off of the whole run (default 300000)
)";

struct options {
  std::string scenario_path;
  std::optional<std::string> url;
  std::optional<std::string> token_file;
  std::optional<std::string> report_path;
  int server_pid = 0;
  std::optional<std::string> metrics_url;
  int sample_ms = 100;
  double scale = 1;
  bool quiet = false;
  std::optional<std::string> raw_url;
  std::uint32_t sessions = 1;
  std::optional<std::uint32_t> concurrency;
  std::optional<std::uint64_t> expected_messages;
  std::uint32_t duration_cap_ms = 300000;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "actorexec-load: " << what << "\n\n" << usage;
  std::exit(2);
}

unsigned long long to_number(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  auto n = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
    usage_error(flag + ": not a non-negative integer: " + text);
  return n;
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc)
        usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    } else if (arg == "--url") {
      o.url = value();
    } else if (arg == "--token-file") {
      o.token_file = value();
    } else if (arg == "--report") {
      o.report_path = value();
    } else if (arg == "--server-pid") {
      o.server_pid = static_cast<int>(to_number(arg, value()));
    } else if (arg == "--metrics") {
      o.metrics_url = value();
    } else if (arg == "--sample-ms") {
      o.sample_ms = static_cast<int>(to_number(arg, value()));
    } else if (arg == "--scale") {
      const char* v = value();
      char* end = nullptr;
      o.scale = std::strtod(v, &end);
      if (end == v || *end != '\0' || !(o.scale > 0))
        usage_error("--scale: not a positive number: " + std::string{v});
    } else if (arg == "--quiet") {
      o.quiet = true;
    } else if (arg == "--raw") {
      o.raw_url = value();
    } else if (arg == "--sessions") {
      o.sessions = static_cast<std::uint32_t>(to_number(arg, value()));
    } else if (arg == "--concurrency") {
      o.concurrency = static_cast<std::uint32_t>(to_number(arg, value()));
    } else if (arg == "--expected-messages") {
      o.expected_messages = to_number(arg, value());
    } else if (arg == "--duration-cap-ms") {
      o.duration_cap_ms = static_cast<std::uint32_t>(to_number(arg, value()));
    } else if (arg.rfind("--", 0) == 0) {
      usage_error("unknown option " + arg);
    } else if (o.scenario_path.empty()) {
      o.scenario_path = arg;
    } else {
      usage_error("more than one scenario given");
    }
  }
  if (o.scenario_path.empty() == !o.raw_url)
    usage_error("give exactly one of SCENARIO.json or --raw URL");
  if (o.server_pid != 0 && o.metrics_url)
    usage_error("give --server-pid or --metrics, not both");
  if (o.sessions == 0 || o.concurrency == 0u || o.sample_ms == 0 ||
      o.duration_cap_ms == 0)
    usage_error("counts and periods must be positive");
  return o;
}

/// A one-phase raw-mode scenario from the command line.
scenario raw_scenario(const options& o) {
  scenario sc;
  sc.name = "raw";
  sc.url = *o.raw_url;
  phase_spec ph;
  ph.name = "raw";
  ph.sessions = o.sessions;
  ph.concurrency = o.concurrency.value_or(o.sessions);
  ph.duration_cap_ms = o.duration_cap_ms;
  session_spec s;
  s.name = "raw";
  s.raw = true;
  s.expected_messages = o.expected_messages;
  s.timeout_ms = o.duration_cap_ms;
  ph.mix.push_back(s);
  sc.phases.push_back(ph);
  return sc;
}

/// 1,000 sessions need more than the usual 1,024 descriptors.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
      std::cerr << "actorexec-load: cannot raise RLIMIT_NOFILE: "
                << std::strerror(errno) << '\n';
  }
}

void cpu_times(double& user, double& sys) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/// The server sampler of a run and, with --metrics, its reader, whose
/// failure count is read once the sampler has stopped.
struct sampling {
  std::unique_ptr<server_sampler> sampler;
  std::shared_ptr<metrics_reader> metrics;

  void stop(run_report& report) {
    if (sampler)
      report.server = sampler->stop();
    if (!metrics || metrics->failures() == 0)
      return;
    report.server_sample_errors = metrics->failures();
    std::cerr << "actorexec-load: " << metrics->failures()
              << " /metrics samples failed; the first: "
              << metrics->first_error() << '\n';
  }
};

/// Samples the server from /proc or from its /metrics, if asked to.
sampling start_sampling(const options& o, const std::string& token,
                        run_report& report,
                        std::chrono::steady_clock::time_point t0) {
  sampling out;
  auto period = std::chrono::milliseconds(o.sample_ms);
  if (o.server_pid != 0) {
    report.server_source = "proc";
    out.sampler = std::make_unique<server_sampler>(
        [pid = o.server_pid] { return read_proc_sample(pid); }, period, t0);
    return out;
  }
  if (!o.metrics_url)
    return out;
  report.server_source = "metrics";
  // Without the query: it may hold the token, and reports get shared.
  report.metrics_url = o.metrics_url->substr(0, o.metrics_url->find('?'));
  auto url = parse_http_url(*o.metrics_url, "--metrics");
  // Each scrape gets a second (or a period, if longer): a stuck server then
  // costs samples, never the run.
  auto timeout = std::max(period, std::chrono::milliseconds(1000));
  out.metrics = std::make_shared<metrics_reader>(
      [url, token, timeout](std::string& body, std::string& error) {
        return http_get(url, token, timeout, body, error);
      });
  out.sampler = std::make_unique<server_sampler>(
      [m = out.metrics] { return (*m)(); }, period, t0);
  return out;
}

int run(const options& o) {
  auto sc = o.raw_url ? raw_scenario(o) : load_scenario(o.scenario_path);
  if (o.url)
    sc.url = *o.url;
  if (o.scale != 1)
    scale_scenario(sc, o.scale);
  ws_target target{parse_ws_url(sc.url), {}};
  if (o.token_file)
    target.token = read_token_file(*o.token_file, "--token-file");
  raise_fd_limit();
  run_report report;
  report.scenario = sc.name;
  report.url = sc.url;
  report.server_pid = o.server_pid;
  report.round_trip = sc.round_trip;
  auto t0 = std::chrono::steady_clock::now();
  auto sampling = start_sampling(o, target.token, report, t0);
  for (std::size_t i = 0; i < sc.phases.size(); ++i) {
    const auto& ph = sc.phases[i];
    if (!o.quiet)
      std::cerr << "actorexec-load: phase " << ph.name << ": " << ph.sessions
                << " sessions, concurrency " << ph.concurrency << '\n';
    report.phases.push_back(run_phase(ph, target, sc.seed + i, t0));
  }
  report.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  sampling.stop(report);
  cpu_times(report.client_cpu_user_s, report.client_cpu_sys_s);
  if (!o.quiet)
    print_summary(std::cout, report);
  if (o.report_path) {
    std::ofstream out{*o.report_path, std::ios::binary | std::ios::trunc};
    out << to_json(report);
    if (!out)
      throw scenario_error(*o.report_path + ": cannot write the report");
  }
  return report.passed() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  try {
    return run(opts);
  } catch (const scenario_error& e) {
    std::cerr << "actorexec-load: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "actorexec-load: error: " << e.what() << '\n';
    return 2;
  }
}
