#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/settings.hpp"

namespace actorexec::app {

/// Everything the server is told at start.
struct config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8003;
  std::string log_level = "info";
  /// Threads running Asio (sockets, pipes); CAF has its own workers.
  std::size_t io_threads = 1;
  /// CAF scheduler threads; 0 keeps CAF's default.
  std::size_t worker_threads = 0;
  std::uint64_t max_message_bytes = 1 << 20;
  std::uint64_t handshake_timeout_ms = 10000;
  /// Bearer token required on the upgrade; empty: none. Loaded from
  /// `auth_token_file` or ACTOREXEC_AUTH_TOKEN, never from a flag (argv is
  /// visible to every local user).
  std::string auth_token;
  /// File holding the token (trailing whitespace ignored).
  std::string auth_token_file;
  /// Serve /metrics and /health without the token.
  bool metrics_no_auth = false;
  /// Allow a non-loopback bind without a token.
  bool insecure = false;
  /// Origins allowed to open a WebSocket; empty: any.
  std::vector<std::string> allowed_origins;
  /// Most WebSockets at once, overall and per remote address (0: no limit).
  std::size_t max_connections = 1000;
  std::size_t max_connections_per_ip = 0;
  /// Most connections not yet upgraded (0: no limit). Also MCP's HTTP
  /// connections, which are never upgraded. Sized for bursts of honest
  /// clients (500 connecting at once, a reconnect storm): beyond it they
  /// are refused, not queued.
  std::size_t max_http_connections = 1024;
  /// `--run-as`: the user children run as (resolved into
  /// `actors.run_as`); empty: the server's.
  std::string run_as;
  settings actors;
  bool show_help = false;
  bool show_version = false;
};

} // namespace actorexec::app
