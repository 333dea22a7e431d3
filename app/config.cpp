#include "app/config.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <sstream>

#include <boost/asio/ip/address.hpp>

#include "actors/run_as.hpp"

extern char** environ;

namespace actorexec::app {

namespace {

/// One setting: its flag, variables, default (for --help) and parser.
struct option {
  const char* flag;
  const char* env;
  const char* seed_env; // the original service's variable, or nullptr
  const char* default_text;
  const char* help;
  /// Stores the value; returns false when it does not parse.
  std::function<bool(config&, const std::string&)> set;
  /// A switch: `--flag` alone means true (`--flag=false` still works).
  bool is_switch = false;
  /// For repeatable flags: forgets the variable's values at the first flag,
  /// so that flags win as a whole.
  std::function<void(config&)> reset = {};
};

bool to_u64(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s[0] == '-')
    return false;
  errno = 0;
  char* end = nullptr;
  auto v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  out = v;
  return true;
}

bool to_double(const std::string& s, double& out) {
  errno = 0;
  char* end = nullptr;
  auto v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || *end != '\0' || v < 0)
    return false;
  out = v;
  return true;
}

template <class T>
std::function<bool(config&, const std::string&)> uint_field(T config::*f) {
  return [f](config& c, const std::string& s) {
    std::uint64_t v;
    if (!to_u64(s, v))
      return false;
    c.*f = static_cast<T>(v);
    return true;
  };
}

template <class T>
std::function<bool(config&, const std::string&)> uint_setting(T settings::*f) {
  return [f](config& c, const std::string& s) {
    std::uint64_t v;
    if (!to_u64(s, v))
      return false;
    c.actors.*f = static_cast<T>(v);
    return true;
  };
}

/// A size limit of request params.
std::function<bool(config&, const std::string&)>
limit_setting(std::size_t protocol::request_limits::*f) {
  return [f](config& c, const std::string& s) {
    std::uint64_t v;
    if (!to_u64(s, v))
      return false;
    c.actors.limits.*f = static_cast<std::size_t>(v);
    return true;
  };
}

bool to_bool(const std::string& s, bool& out) {
  for (auto t : {"1", "true", "yes", "on"})
    if (s == t)
      return out = true;
  for (auto f : {"0", "false", "no", "off", ""})
    if (s == f) {
      out = false;
      return true;
    }
  return false;
}

std::function<bool(config&, const std::string&)> bool_field(bool config::*f) {
  return [f](config& c, const std::string& s) { return to_bool(s, c.*f); };
}

/// A per-child resource limit; a later value for the same resource wins.
std::function<bool(config&, const std::string&)> rlimit_setting(int resource) {
  return [resource](config& c, const std::string& s) {
    std::uint64_t v;
    if (!to_u64(s, v))
      return false;
    auto& lims = c.actors.rlimits;
    for (auto& l : lims)
      if (l.first == resource) {
        l.second = v;
        return true;
      }
    lims.emplace_back(resource, v);
    return true;
  };
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos)
      out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

const std::vector<option>& options() {
  static const std::vector<option> opts{
      {"port", "ACTOREXEC_PORT", "DEFAULT_PORT", "8003",
       "TCP port to listen on (0: any free port, logged at start)",
       [](config& c, const std::string& s) {
         std::uint64_t v;
         if (!to_u64(s, v) || v > 65535)
           return false;
         c.port = static_cast<std::uint16_t>(v);
         return true;
       }},
      {"host", "ACTOREXEC_HOST", nullptr, "127.0.0.1", "address to bind",
       [](config& c, const std::string& s) {
         c.host = s;
         return !s.empty();
       }},
      {"max-sessions", "ACTOREXEC_MAX_SESSIONS", "MAX_SESSIONS", "100",
       "most sessions alive at once", uint_setting(&settings::max_sessions)},
      {"mcp-max-processes", "ACTOREXEC_MCP_MAX_PROCESSES", nullptr, "16",
       "processes one MCP session may run at once",
       uint_setting(&settings::mcp_max_processes)},
      {"allowed-commands", "ACTOREXEC_ALLOWED_COMMANDS", "ALLOWED_COMMANDS",
       "(any)", "comma list of commands that may run",
       [](config& c, const std::string& s) {
         c.actors.allowed = protocol::allow_list::parse(s);
         return true;
       }},
      {"allowed-env", "ACTOREXEC_ALLOWED_ENV", nullptr, "(any)",
       "comma list of the only variables a request's `env` may set; needs "
       "--allowed-commands (loader, shell and lookup-path variables are "
       "refused with it regardless)",
       [](config& c, const std::string& s) {
         c.actors.allowed_env = protocol::env_policy::parse(s);
         return true;
       }},
      {"shell", "ACTOREXEC_SHELL", "CC_EXECUTOR_SHELL", "bash",
       "shell for `command`: bash, zsh or sh",
       [](config& c, const std::string& s) {
         if (s != "bash" && s != "zsh" && s != "sh")
           return false;
         c.actors.shell = s;
         return true;
       }},
      {"log-level", "ACTOREXEC_LOG_LEVEL", "LOG_LEVEL", "info",
       "debug, info, warn or error",
       [](config& c, const std::string& s) {
         c.log_level = s;
         return true;
       }},
      {"json-ping-interval", "ACTOREXEC_JSON_PING_INTERVAL",
       "WEBSOCKET_HEARTBEAT_INTERVAL", "30",
       "seconds between JSON `ping` notifications (0: off)",
       [](config& c, const std::string& s) {
         double v;
         if (!to_double(s, v))
           return false;
         c.actors.json_ping_interval_ms = static_cast<std::uint64_t>(v * 1000);
         return true;
       }},
      {"heartbeat-interval-ms", "ACTOREXEC_HEARTBEAT_INTERVAL_MS", nullptr,
       "20000", "WebSocket ping period",
       uint_setting(&settings::heartbeat_interval_ms)},
      {"heartbeat-timeout-ms", "ACTOREXEC_HEARTBEAT_TIMEOUT_MS", nullptr,
       "2 x interval", "silence after which a peer is dead",
       uint_setting(&settings::heartbeat_timeout_ms)},
      {"session-linger-ms", "ACTOREXEC_SESSION_LINGER_MS", nullptr, "60000",
       "lifetime of a detached session",
       uint_setting(&settings::session_linger_ms)},
      {"cancel-grace-ms", "ACTOREXEC_CANCEL_GRACE_MS", nullptr, "10000",
       "SIGTERM to SIGKILL grace of CANCEL and timeouts",
       uint_setting(&settings::cancel_grace_ms)},
      {"close-grace-ms", "ACTOREXEC_CLOSE_GRACE_MS", nullptr, "2000",
       "SIGTERM to SIGKILL grace when a client closes",
       uint_setting(&settings::close_grace_ms)},
      {"shutdown-grace-ms", "ACTOREXEC_SHUTDOWN_GRACE_MS", nullptr, "10000",
       "grace of running processes when the server stops",
       uint_setting(&settings::shutdown_grace_ms)},
      {"max-buffer-bytes", "ACTOREXEC_MAX_BUFFER_BYTES", "MAX_OUTPUT_BUFFER",
       "1048576", "unacknowledged output bytes a session retains",
       uint_setting(&settings::max_buffer_bytes)},
      {"max-buffer-frames", "ACTOREXEC_MAX_BUFFER_FRAMES", "OUTPUT_LINE_LIMIT",
       "1000", "unacknowledged output frames a session retains",
       uint_setting(&settings::max_buffer_frames)},
      {"replay-window-bytes", "ACTOREXEC_REPLAY_WINDOW_BYTES", nullptr,
       "262144", "written output kept for replay when the client never acks",
       uint_setting(&settings::replay_window_bytes)},
      {"connection-window-bytes", "ACTOREXEC_CONNECTION_WINDOW_BYTES", nullptr,
       "262144", "output bytes a session may have queued toward its socket",
       uint_setting(&settings::connection_window_bytes)},
      {"guaranteed-window-bytes", "ACTOREXEC_GUARANTEED_WINDOW_BYTES", nullptr,
       "12288",
       "part of the connection window a session holds whatever the others do",
       uint_setting(&settings::guaranteed_window_bytes)},
      {"window-budget-bytes", "ACTOREXEC_WINDOW_BUDGET_BYTES", nullptr,
       "262144",
       "server-wide bytes of connection windows beyond the guaranteed parts",
       uint_setting(&settings::window_budget_bytes)},
      {"max-message-bytes", "ACTOREXEC_MAX_MESSAGE_BYTES", nullptr, "1048576",
       "largest inbound WebSocket message (close 1009 beyond)",
       uint_field(&config::max_message_bytes)},
      {"handshake-timeout-ms", "ACTOREXEC_HANDSHAKE_TIMEOUT_MS", nullptr,
       "10000", "deadline of the HTTP request and WebSocket handshake",
       uint_field(&config::handshake_timeout_ms)},
      {"io-threads", "ACTOREXEC_IO_THREADS", nullptr, "1",
       "threads running socket and pipe I/O", uint_field(&config::io_threads)},
      {"worker-threads", "ACTOREXEC_WORKER_THREADS", nullptr, "0",
       "threads running the actors (0: CAF's default, the larger of 4 and "
       "the number of cores)",
       uint_field(&config::worker_threads)},
      {"auth-token-file", "ACTOREXEC_AUTH_TOKEN_FILE", nullptr, "(none)",
       "file holding the bearer token required on the upgrade; or put the "
       "token itself in ACTOREXEC_AUTH_TOKEN",
       [](config& c, const std::string& s) {
         c.auth_token_file = s;
         return !s.empty();
       }},
      {"metrics-no-auth", "ACTOREXEC_METRICS_NO_AUTH", nullptr, "false",
       "serve /metrics and /health without the token (switch)",
       bool_field(&config::metrics_no_auth), true},
      {"insecure", "ACTOREXEC_INSECURE", nullptr, "false",
       "allow binding a non-loopback address without a token (switch)",
       bool_field(&config::insecure), true},
      {"allowed-origin", "ACTOREXEC_ALLOWED_ORIGINS", nullptr, "(any)",
       "Origin allowed to open a WebSocket, exact match; repeatable (the "
       "variable takes a comma list); other origins get 403",
       [](config& c, const std::string& s) {
         for (auto& o : split_list(s))
           c.allowed_origins.push_back(o);
         return true;
       },
       false, [](config& c) { c.allowed_origins.clear(); }},
      {"max-connections", "ACTOREXEC_MAX_CONNECTIONS", nullptr, "1000",
       "most WebSocket connections at once, 0: no limit (503 beyond)",
       uint_field(&config::max_connections)},
      {"max-connections-per-ip", "ACTOREXEC_MAX_CONNECTIONS_PER_IP", nullptr,
       "0",
       "most WebSocket connections from one address, 0: no limit (503 "
       "beyond)",
       uint_field(&config::max_connections_per_ip)},
      {"max-http-connections", "ACTOREXEC_MAX_HTTP_CONNECTIONS", nullptr, "256",
       "most connections not yet upgraded to a WebSocket, 0: no limit (closed "
       "at once beyond)",
       uint_field(&config::max_http_connections)},
      {"no-shell", "ACTOREXEC_NO_SHELL", nullptr, "false",
       "accept `argv` only; `command` gets -32001 (switch)",
       [](config& c, const std::string& s) {
         return to_bool(s, c.actors.no_shell);
       },
       true},
      {"strict-params", "ACTOREXEC_STRICT_PARAMS", nullptr, "false",
       "refuse a request with an unknown param (-32602) instead of ignoring "
       "it with a warning (switch)",
       [](config& c, const std::string& s) {
         return to_bool(s, c.actors.strict_params);
       },
       true},
      {"rlimit-cpu", "ACTOREXEC_RLIMIT_CPU", nullptr, "(none)",
       "CPU seconds per child (RLIMIT_CPU; SIGXCPU beyond)",
       rlimit_setting(RLIMIT_CPU)},
      {"rlimit-as", "ACTOREXEC_RLIMIT_AS", nullptr, "(none)",
       "address space bytes per child (RLIMIT_AS)", rlimit_setting(RLIMIT_AS)},
      {"rlimit-nofile", "ACTOREXEC_RLIMIT_NOFILE", nullptr, "(none)",
       "open files per child (RLIMIT_NOFILE)", rlimit_setting(RLIMIT_NOFILE)},
      {"rlimit-nproc", "ACTOREXEC_RLIMIT_NPROC", nullptr, "(none)",
       "processes of the child's user (RLIMIT_NPROC)",
       rlimit_setting(RLIMIT_NPROC)},
      {"rlimit-fsize", "ACTOREXEC_RLIMIT_FSIZE", nullptr, "(none)",
       "largest file a child may write, bytes (RLIMIT_FSIZE)",
       rlimit_setting(RLIMIT_FSIZE)},
      {"scrub-env", "ACTOREXEC_SCRUB_ENV", nullptr, "(none)",
       "comma list of variables never passed to children",
       [](config& c, const std::string& s) {
         c.actors.scrub_env = split_list(s);
         return true;
       }},
      {"run-as", "ACTOREXEC_RUN_AS", nullptr, "(none)",
       "user children run as (setgroups, setgid, setuid before exec; HOME, "
       "USER and LOGNAME set to the user's); the server must run as root",
       [](config& c, const std::string& s) {
         c.run_as = s;
         return !s.empty();
       }},
      {"rate-limit-rps", "ACTOREXEC_RATE_LIMIT_RPS", nullptr, "100",
       "requests per second one connection may send on average, 0: no limit "
       "(-32029 beyond; pong and ack are exempt)",
       uint_setting(&settings::rate_limit_rps)},
      {"rate-limit-burst", "ACTOREXEC_RATE_LIMIT_BURST", nullptr, "200",
       "requests one connection may send at once (the token bucket's size, "
       "at least 1)",
       uint_setting(&settings::rate_limit_burst)},
      {"max-command-bytes", "ACTOREXEC_MAX_COMMAND_BYTES", nullptr, "65536",
       "largest `command` of an execute, 0: no limit (-32602 beyond)",
       limit_setting(&protocol::request_limits::max_command_bytes)},
      {"max-argv-entries", "ACTOREXEC_MAX_ARGV_ENTRIES", nullptr, "4096",
       "most `argv` entries of an execute, 0: no limit (-32602 beyond)",
       limit_setting(&protocol::request_limits::max_argv_entries)},
      {"max-argv-bytes", "ACTOREXEC_MAX_ARGV_BYTES", nullptr, "262144",
       "most bytes of all `argv` entries together, 0: no limit (-32602 "
       "beyond)",
       limit_setting(&protocol::request_limits::max_argv_bytes)},
      {"max-env-entries", "ACTOREXEC_MAX_ENV_ENTRIES", nullptr, "256",
       "most `env` entries of an execute, 0: no limit (-32602 beyond)",
       limit_setting(&protocol::request_limits::max_env_entries)},
      {"max-env-bytes", "ACTOREXEC_MAX_ENV_BYTES", nullptr, "32768",
       "most bytes of all `env` names and values together, 0: no limit "
       "(-32602 beyond)",
       limit_setting(&protocol::request_limits::max_env_bytes)},
      {"max-input-bytes", "ACTOREXEC_MAX_INPUT_BYTES", nullptr, "1048576",
       "largest `data` of one input request, after base64 decoding, 0: no "
       "limit (-32602 beyond)",
       limit_setting(&protocol::request_limits::max_input_bytes)},
      {"max-pending-input-bytes", "ACTOREXEC_MAX_PENDING_INPUT_BYTES", nullptr,
       "2097152",
       "input bytes per process waiting for the child to read them, 0: no "
       "limit (-32006 beyond)",
       uint_setting(&settings::max_pending_input_bytes)},
  };
  return opts;
}

const option* find_option(const std::string& name) {
  for (auto& o : options())
    if (name == o.flag)
      return &o;
  return nullptr;
}

} // namespace

std::map<std::string, std::string> environment_map() {
  std::map<std::string, std::string> env;
  for (auto p = environ; p && *p; ++p) {
    std::string entry{*p};
    auto eq = entry.find('=');
    if (eq != std::string::npos)
      env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

namespace {

/// Loads the token (file first, then ACTOREXEC_AUTH_TOKEN) and refuses a
/// non-loopback bind without one.
std::optional<std::string>
finish_security(const std::map<std::string, std::string>& env,
                bool file_from_flag, config& out) {
  auto var = env.find("ACTOREXEC_AUTH_TOKEN");
  if (!file_from_flag && var != env.end() && !var->second.empty()) {
    out.auth_token = var->second;
    out.auth_token_file.clear();
  }
  if (!out.auth_token_file.empty())
    if (auto err = read_token_file(out.auth_token_file, out.auth_token))
      return err;
  for (unsigned char ch : out.auth_token)
    if (ch <= 0x20 || ch >= 0x7f)
      return std::string{"the auth token must be printable ASCII without "
                         "spaces"};
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(out.host, ec);
  if (!ec && !address.is_loopback() && out.auth_token.empty() && !out.insecure)
    return "refusing to listen on " + out.host +
           " without an auth token: set --auth-token-file or "
           "ACTOREXEC_AUTH_TOKEN, or pass --insecure";
  return std::nullopt;
}

} // namespace

std::optional<std::string> read_token_file(const std::string& path,
                                           std::string& token) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return "cannot read the auth token file " + path;
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  auto end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos)
    return "the auth token file " + path + " is empty";
  token = text.substr(0, end + 1);
  return std::nullopt;
}

std::optional<std::string>
parse_config(int argc, const char* const* argv,
             const std::map<std::string, std::string>& env, config& out) {
  bool timeout_given = false;
  std::set<std::string> flags_seen;
  // Variables first (seed names lose to ours), then flags over them.
  for (auto& o : options()) {
    for (auto name : {o.seed_env, o.env}) {
      if (!name)
        continue;
      auto i = env.find(name);
      if (i == env.end())
        continue;
      if (!o.set(out, i->second))
        return std::string{"invalid value for "} + name + ": '" + i->second +
               "'";
      timeout_given |= std::string{o.flag} == "heartbeat-timeout-ms";
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.show_help = true;
      continue;
    }
    if (arg == "--version") {
      out.show_version = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      return "unexpected argument: " + arg;
    auto name = arg.substr(2);
    std::string value;
    auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto o = find_option(name);
    if (!o)
      return "unknown flag: --" + name;
    if (eq == std::string::npos) {
      if (o->is_switch)
        value = "true";
      else if (i + 1 < argc)
        value = argv[++i];
      else
        return "missing value for --" + name;
    }
    if (o->reset && flags_seen.count(name) == 0)
      o->reset(out);
    flags_seen.insert(name);
    if (!o->set(out, value))
      return "invalid value for --" + name + ": '" + value + "'";
    timeout_given |= name == "heartbeat-timeout-ms";
  }
  if (!timeout_given)
    out.actors.heartbeat_timeout_ms = 2 * out.actors.heartbeat_interval_ms;
  if (out.io_threads == 0)
    out.io_threads = 1;
  // A session sends while it holds credit: without any, output never flows.
  if (out.actors.connection_window_bytes == 0)
    out.actors.connection_window_bytes = 1;
  if (out.show_help || out.show_version)
    return std::nullopt;
  // Without a command allow-list a client sets any variable in the command
  // itself (`env X=1 cmd`): the list would only look like a control.
  if (!out.actors.allowed_env.empty() && out.actors.allowed.empty())
    return std::string{"--allowed-env needs --allowed-commands: without a "
                       "command allow-list a client can set any variable "
                       "through the command itself"};
  if (auto err =
          finish_security(env, flags_seen.count("auth-token-file") > 0, out))
    return err;
  return resolve_run_as(out);
}

std::optional<std::string> resolve_run_as(config& out) {
  if (out.run_as.empty())
    return std::nullopt;
  return actorexec::resolve_run_as(out.run_as, out.actors.run_as);
}

std::string help_text() {
  std::ostringstream os;
  os << "actorexec " ACTOREXEC_VERSION
        ": runs child processes for WebSocket clients (JSON-RPC 2.0 at "
        "ws://HOST:PORT/ws/mcp)\n\n"
        "usage: actorexec [--flag value | --flag=value]...\n\n"
        "Every flag has an environment variable; the flag wins.\n\n";
  for (auto& o : options()) {
    os << "  --" << o.flag << "\n      " << o.help << " (default "
       << o.default_text << ")\n      env " << o.env;
    if (o.seed_env)
      os << ", " << o.seed_env;
    os << "\n";
    if (std::string{o.flag} == "auth-token-file")
      os << "      env ACTOREXEC_AUTH_TOKEN holds the token itself (the flag "
            "wins over it, it wins over ACTOREXEC_AUTH_TOKEN_FILE)\n";
  }
  os << "  --help      this text\n  --version   print the version\n";
  return os.str();
}

} // namespace actorexec::app
