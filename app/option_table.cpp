#include "app/option_table.hpp"

#include <sys/resource.h>

#include <sstream>

namespace actorexec::app {

namespace po = boost::program_options;

namespace {

using limits = protocol::request_limits;

std::vector<option> make_table() {
  using k = option_kind;
  return {
      {"port", "ACTOREXEC_PORT", "DEFAULT_PORT",
       "TCP port to listen on (0: any free port, logged at start)",
       number(&config::port)},
      {"host", "ACTOREXEC_HOST", nullptr, "address to bind",
       nonempty_text(&config::host, "none")},
      {"max-sessions", "ACTOREXEC_MAX_SESSIONS", "MAX_SESSIONS",
       "most sessions alive at once", number(&settings::max_sessions)},
      {"mcp-max-processes", "ACTOREXEC_MCP_MAX_PROCESSES", nullptr,
       "processes one MCP session may run at once",
       number(&settings::mcp_max_processes)},
      {"mcp-task-max-ttl-ms", "ACTOREXEC_MCP_TASK_MAX_TTL_MS", nullptr,
       "longest lifetime of an MCP task; then it and its process are gone",
       number(&settings::mcp_task_max_ttl_ms)},
      {"allowed-commands", "ACTOREXEC_ALLOWED_COMMANDS", "ALLOWED_COMMANDS",
       "comma list of commands that may run",
       parsed_list(&settings::allowed, "any")},
      {"allowed-env", "ACTOREXEC_ALLOWED_ENV", nullptr,
       "comma list of the only variables a request's `env` may set; needs "
       "--allowed-commands (loader, shell and lookup-path variables are "
       "refused with it regardless)",
       parsed_list(&settings::allowed_env, "any")},
      {"shell", "ACTOREXEC_SHELL", "CC_EXECUTOR_SHELL",
       "shell for `command`: bash, zsh or sh", shell_name()},
      {"log-level", "ACTOREXEC_LOG_LEVEL", "LOG_LEVEL",
       "debug, info, warn or error", any_text(&config::log_level)},
      {"json-ping-interval", "ACTOREXEC_JSON_PING_INTERVAL",
       "WEBSOCKET_HEARTBEAT_INTERVAL",
       "seconds between JSON `ping` notifications (0: off)",
       seconds_as_ms(&settings::json_ping_interval_ms)},
      {"heartbeat-interval-ms", "ACTOREXEC_HEARTBEAT_INTERVAL_MS", nullptr,
       "WebSocket ping period", number(&settings::heartbeat_interval_ms)},
      // Derived in derive_settings unless given; a test holds the struct's
      // default to the same rule.
      {"heartbeat-timeout-ms", "ACTOREXEC_HEARTBEAT_TIMEOUT_MS", nullptr,
       "silence after which a peer is dead",
       shown_as(number(&settings::heartbeat_timeout_ms), "2 x interval")},
      {"session-linger-ms", "ACTOREXEC_SESSION_LINGER_MS", nullptr,
       "lifetime of a detached session", number(&settings::session_linger_ms)},
      {"cancel-grace-ms", "ACTOREXEC_CANCEL_GRACE_MS", nullptr,
       "SIGTERM to SIGKILL grace of CANCEL and timeouts",
       number(&settings::cancel_grace_ms)},
      {"close-grace-ms", "ACTOREXEC_CLOSE_GRACE_MS", nullptr,
       "SIGTERM to SIGKILL grace when a client closes",
       number(&settings::close_grace_ms)},
      {"shutdown-grace-ms", "ACTOREXEC_SHUTDOWN_GRACE_MS", nullptr,
       "grace of running processes when the server stops",
       number(&settings::shutdown_grace_ms)},
      {"max-buffer-bytes", "ACTOREXEC_MAX_BUFFER_BYTES", "MAX_OUTPUT_BUFFER",
       "unacknowledged output bytes a session retains",
       number(&settings::max_buffer_bytes)},
      {"max-buffer-frames", "ACTOREXEC_MAX_BUFFER_FRAMES", "OUTPUT_LINE_LIMIT",
       "unacknowledged output frames a session retains",
       number(&settings::max_buffer_frames)},
      {"replay-window-bytes", "ACTOREXEC_REPLAY_WINDOW_BYTES", nullptr,
       "written output kept for replay when the client never acks",
       number(&settings::replay_window_bytes)},
      {"connection-window-bytes", "ACTOREXEC_CONNECTION_WINDOW_BYTES", nullptr,
       "output bytes a session may have queued toward its socket",
       number(&settings::connection_window_bytes)},
      {"guaranteed-window-bytes", "ACTOREXEC_GUARANTEED_WINDOW_BYTES", nullptr,
       "part of the connection window a session holds whatever the others do",
       number(&settings::guaranteed_window_bytes)},
      {"window-budget-bytes", "ACTOREXEC_WINDOW_BUDGET_BYTES", nullptr,
       "server-wide bytes of connection windows beyond the guaranteed parts",
       number(&settings::window_budget_bytes)},
      {"max-message-bytes", "ACTOREXEC_MAX_MESSAGE_BYTES", nullptr,
       "largest inbound WebSocket message (close 1009 beyond)",
       number(&config::max_message_bytes)},
      {"handshake-timeout-ms", "ACTOREXEC_HANDSHAKE_TIMEOUT_MS", nullptr,
       "deadline of the HTTP request and WebSocket handshake",
       number(&config::handshake_timeout_ms)},
      {"io-threads", "ACTOREXEC_IO_THREADS", nullptr,
       "threads running socket and pipe I/O", number(&config::io_threads)},
      {"worker-threads", "ACTOREXEC_WORKER_THREADS", nullptr,
       "threads running the actors (0: CAF's default, the larger of 4 and "
       "the number of cores)",
       number(&config::worker_threads)},
      {"auth-token-file", "ACTOREXEC_AUTH_TOKEN_FILE", nullptr,
       "file holding the bearer token required on the upgrade; or put the "
       "token itself in ACTOREXEC_AUTH_TOKEN (the flag wins over it, it wins "
       "over ACTOREXEC_AUTH_TOKEN_FILE)",
       nonempty_text(&config::auth_token_file, "none")},
      {"metrics-no-auth", "ACTOREXEC_METRICS_NO_AUTH", nullptr,
       "serve /metrics and /health without the token (switch)",
       toggle(&config::metrics_no_auth), k::toggle},
      {"insecure", "ACTOREXEC_INSECURE", nullptr,
       "allow binding a non-loopback address without a token (switch)",
       toggle(&config::insecure), k::toggle},
      {"allowed-origin", "ACTOREXEC_ALLOWED_ORIGINS", nullptr,
       "Origin allowed to open a WebSocket, exact match; repeatable (the "
       "variable takes a comma list); other origins get 403",
       name_list(&config::allowed_origins, "any"), k::repeatable},
      {"max-connections", "ACTOREXEC_MAX_CONNECTIONS", nullptr,
       "most WebSocket connections at once, 0: no limit (503 beyond)",
       number(&config::max_connections)},
      {"max-connections-per-ip", "ACTOREXEC_MAX_CONNECTIONS_PER_IP", nullptr,
       "most WebSocket connections from one address, 0: no limit (503 "
       "beyond)",
       number(&config::max_connections_per_ip)},
      {"max-http-connections", "ACTOREXEC_MAX_HTTP_CONNECTIONS", nullptr,
       "most connections not yet upgraded to a WebSocket, 0: no limit (closed "
       "at once beyond)",
       number(&config::max_http_connections)},
      {"no-shell", "ACTOREXEC_NO_SHELL", nullptr,
       "accept `argv` only; `command` gets -32001 (switch)",
       toggle(&settings::no_shell), k::toggle},
      {"strict-params", "ACTOREXEC_STRICT_PARAMS", nullptr,
       "refuse a request with an unknown param (-32602) instead of ignoring "
       "it with a warning (switch)",
       toggle(&settings::strict_params), k::toggle},
      {"rlimit-cpu", "ACTOREXEC_RLIMIT_CPU", nullptr,
       "CPU seconds per child (RLIMIT_CPU; SIGXCPU beyond)",
       rlimit(RLIMIT_CPU)},
      {"rlimit-as", "ACTOREXEC_RLIMIT_AS", nullptr,
       "address space bytes per child (RLIMIT_AS)", rlimit(RLIMIT_AS)},
      {"rlimit-nofile", "ACTOREXEC_RLIMIT_NOFILE", nullptr,
       "open files per child (RLIMIT_NOFILE)", rlimit(RLIMIT_NOFILE)},
      {"rlimit-nproc", "ACTOREXEC_RLIMIT_NPROC", nullptr,
       "processes of the child's user (RLIMIT_NPROC)", rlimit(RLIMIT_NPROC)},
      {"rlimit-fsize", "ACTOREXEC_RLIMIT_FSIZE", nullptr,
       "largest file a child may write, bytes (RLIMIT_FSIZE)",
       rlimit(RLIMIT_FSIZE)},
      {"scrub-env", "ACTOREXEC_SCRUB_ENV", nullptr,
       "comma list of variables never passed to children",
       name_list(&settings::scrub_env, "none")},
      {"run-as", "ACTOREXEC_RUN_AS", nullptr,
       "user children run as (setgroups, setgid, setuid before exec; HOME, "
       "USER and LOGNAME set to the user's); the server must run as root",
       nonempty_text(&config::run_as, "the server's user")},
      {"rate-limit-rps", "ACTOREXEC_RATE_LIMIT_RPS", nullptr,
       "requests per second one connection may send on average, 0: no limit "
       "(-32029 beyond; pong and ack are exempt)",
       number(&settings::rate_limit_rps)},
      {"rate-limit-burst", "ACTOREXEC_RATE_LIMIT_BURST", nullptr,
       "requests one connection may send at once (the token bucket's size, "
       "at least 1)",
       number(&settings::rate_limit_burst)},
      {"max-command-bytes", "ACTOREXEC_MAX_COMMAND_BYTES", nullptr,
       "largest `command` of an execute, 0: no limit (-32602 beyond)",
       number(&limits::max_command_bytes)},
      {"max-argv-entries", "ACTOREXEC_MAX_ARGV_ENTRIES", nullptr,
       "most `argv` entries of an execute, 0: no limit (-32602 beyond)",
       number(&limits::max_argv_entries)},
      {"max-argv-bytes", "ACTOREXEC_MAX_ARGV_BYTES", nullptr,
       "most bytes of all `argv` entries together, 0: no limit (-32602 "
       "beyond)",
       number(&limits::max_argv_bytes)},
      {"max-env-entries", "ACTOREXEC_MAX_ENV_ENTRIES", nullptr,
       "most `env` entries of an execute, 0: no limit (-32602 beyond)",
       number(&limits::max_env_entries)},
      {"max-env-bytes", "ACTOREXEC_MAX_ENV_BYTES", nullptr,
       "most bytes of all `env` names and values together, 0: no limit "
       "(-32602 beyond)",
       number(&limits::max_env_bytes)},
      {"max-input-bytes", "ACTOREXEC_MAX_INPUT_BYTES", nullptr,
       "largest `data` of one input request, after base64 decoding, 0: no "
       "limit (-32602 beyond)",
       number(&limits::max_input_bytes)},
      {"max-pending-input-bytes", "ACTOREXEC_MAX_PENDING_INPUT_BYTES", nullptr,
       "input bytes per process waiting for the child to read them, 0: no "
       "limit (-32006 beyond)",
       number(&settings::max_pending_input_bytes)},
  };
}

/// The help line of `o`: its text, then where else it can be set.
std::string describe(const option& o) {
  std::string text = o.help;
  text += "\nenv ";
  text += o.env;
  if (o.seed_env)
    text += std::string{", "} + o.seed_env;
  return text;
}

/// The value semantic of `o`, its default text read from a default `config`.
po::typed_value<std::vector<std::string>>* semantic(const option& o,
                                                    const config& defaults) {
  auto v = po::value<std::vector<std::string>>();
  v->default_value({}, o.value.show(defaults));
  if (o.kind == option_kind::toggle)
    v->implicit_value({"true"}, "true");
  return v;
}

} // namespace

const std::vector<option>& option_table() {
  static const std::vector<option> table = make_table();
  return table;
}

const option* find_option(const std::string& flag) {
  for (auto& o : option_table())
    if (flag == o.flag)
      return &o;
  return nullptr;
}

po::options_description describe_options() {
  const config defaults;
  po::options_description desc{"Every flag has an environment variable; the "
                               "flag wins",
                               80, 40};
  for (auto& o : option_table())
    desc.add_options()(o.flag, semantic(o, defaults), describe(o).c_str());
  desc.add_options()("help", po::bool_switch(), "this text (also -h)")(
      "version", po::bool_switch(), "print the version");
  return desc;
}

std::string help_text() {
  std::ostringstream os;
  os << "actorexec " ACTOREXEC_VERSION
        ": runs child processes for WebSocket clients (JSON-RPC 2.0 at "
        "ws://HOST:PORT/ws/mcp)\n\n"
        "usage: actorexec [--flag value | --flag=value]...\n\n"
     << describe_options();
  return os.str();
}

} // namespace actorexec::app
