// actorexec: runs child processes for remote clients over WebSocket.
// Wiring: flags -> settings; one CAF actor system (supervisor, connections,
// sessions, processes); one Asio io_context (sockets and pipes); signals.

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/child_io.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/supervisor.hpp"
#include "actors/timer_relay.hpp"
#include "app/config.hpp"
#include "app/fd_limit.hpp"
#include "app/option_table.hpp"
#include "app/parse_config.hpp"
#include "net/listener.hpp"

/// jemalloc's options, read once at start-up (MALLOC_CONF in the
/// environment still overrides them). One arena instead of one per thread
/// pair: frames are allocated on CAF's workers and freed on other threads,
/// and per-thread arenas kept a fifth more memory resident (500 sessions of
/// `seq 1 20000`: 286 MiB peak, 251 MiB with one arena, the same CPU). Freed
/// pages go back to the system after 1 s instead of 10: a burst's memory
/// does not linger, and the same fan-out peaked 6 MiB lower (63 vs 69 MiB,
/// medians of 3 alternating runs, no more CPU). The sanitizer build has no
/// jemalloc and ignores the symbol.
extern "C" {
const char* malloc_conf = "narenas:1,dirty_decay_ms:1000";
}

namespace {

namespace asio = boost::asio;
using namespace actorexec;
using namespace std::chrono;

/// How often shutdown checks whether every process is gone.
constexpr auto drain_poll = milliseconds{50};

/// Extra time past the grace periods before the server gives up waiting.
constexpr auto drain_margin = milliseconds{3000};

/// An io_context whose services can be shut down before it is destroyed:
/// actors hold strands and descriptors of it (connection outboxes, child
/// I/O), and those must go while its services still exist.
struct io_context : asio::io_context {
  using asio::io_context::io_context;
  using asio::io_context::shutdown;
};

struct server {
  caf::actor_system& sys;
  asio::io_context& ioc;
  std::shared_ptr<net::server_context> ctx;
  std::shared_ptr<net::listener> lst;
  steady_clock::time_point drain_deadline;
  std::unique_ptr<asio::steady_timer> drain_timer;
  bool stopping = false;
};

/// Waits until every process is reaped (or the deadline passed), then stops
/// the I/O threads.
void await_drained(std::shared_ptr<server> srv) {
  auto& stats = *srv->ctx->stats;
  // Sockets too: a Close frame (1001) still queued would be lost, and the
  // client would see 1006, if the I/O threads stopped before writing it.
  if (stats.running_processes.load() <= 0 &&
      stats.active_sessions.load() <= 0 && stats.active_connections.load() <= 0)
    return srv->ioc.stop();
  if (steady_clock::now() > srv->drain_deadline) {
    log::warn("shutdown_deadline",
              {{"running_processes", stats.running_processes.load()}});
    return srv->ioc.stop();
  }
  srv->drain_timer->expires_after(drain_poll);
  srv->drain_timer->async_wait([srv](auto) { await_drained(srv); });
}

void start_shutdown(std::shared_ptr<server> srv, int sig) {
  auto& cfg = *srv->ctx->cfg;
  if (srv->stopping) {
    // A second signal: end everything now.
    log::warn("shutdown_forced", {{"signal", sig}});
    caf::anon_send(srv->ctx->supervisor, shutdown_atom::value,
                   std::uint64_t{0});
    srv->drain_deadline = steady_clock::now() + drain_margin;
    return;
  }
  srv->stopping = true;
  log::lifecycle("shutdown",
                 {{"signal", sig}, {"grace_ms", cfg.shutdown_grace_ms}});
  // The listener stays open while draining: a load balancer's probe must
  // find /readyz answering 503 (not a refused connection) for the whole
  // drain, and an upgrade gets 503 too. It closes with the I/O threads.
  srv->ctx->stats->draining = true;
  caf::anon_send(srv->ctx->supervisor, shutdown_atom::value,
                 cfg.shutdown_grace_ms);
  srv->drain_deadline =
      steady_clock::now() + milliseconds{cfg.shutdown_grace_ms} + drain_margin;
  srv->drain_timer = std::make_unique<asio::steady_timer>(srv->ioc);
  await_drained(srv);
}

void await_signal(std::shared_ptr<server> srv,
                  std::shared_ptr<asio::signal_set> signals) {
  signals->async_wait([srv, signals](auto ec, int sig) {
    if (ec)
      return;
    start_shutdown(srv, sig);
    await_signal(srv, signals);
  });
}

int run(const app::config& cfg) {
  auto settings_ptr = std::make_shared<const settings>(cfg.actors);
  auto stats = std::make_shared<server_stats>();
  caf::actor_system_config sys_cfg;
  if (cfg.worker_threads > 0)
    sys_cfg.set("scheduler.max-threads", cfg.worker_threads);
  caf::actor_system sys{sys_cfg};
  io_context ioc{static_cast<int>(cfg.io_threads)};
  auto ctx = std::make_shared<net::server_context>();
  ctx->system = &sys;
  ctx->cfg = settings_ptr;
  ctx->stats = stats;
  ctx->max_message_bytes = cfg.max_message_bytes;
  // At least two of the largest messages, so one waiting to be handled
  // never stops the next from being read.
  ctx->inbound_window_bytes = std::max<std::uint64_t>(
      ctx->inbound_window_bytes, 2 * cfg.max_message_bytes);
  ctx->handshake_timeout_ms = cfg.handshake_timeout_ms;
  ctx->access = {cfg.auth_token, cfg.allowed_origins, cfg.metrics_no_auth};
  ctx->max_connections = cfg.max_connections;
  ctx->admit = std::make_shared<net::admission>(cfg.max_connections,
                                                cfg.max_connections_per_ip);
  ctx->max_http_connections = cfg.max_http_connections;
  ctx->http_admit =
      std::make_shared<net::admission>(cfg.max_http_connections, 0);
  ctx->supervisor =
      sys.spawn(supervisor_actor, child_io::spawner(ioc), settings_ptr, stats);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(cfg.host, ec);
  if (ec) {
    log::error("bad_host", {{"host", cfg.host}, {"error", ec.message()}});
    caf::anon_send_exit(ctx->supervisor, caf::exit_reason::user_shutdown);
    return 2;
  }
  // Bound to loopback, /mcp also wants a loopback Host (DNS rebinding).
  ctx->access.loopback_host = address.is_loopback();
  auto lst = std::make_shared<net::listener>(ioc, ctx);
  lst->open({address, cfg.port}, ec);
  if (ec) {
    log::error(
        "listen_failed",
        {{"host", cfg.host}, {"port", cfg.port}, {"error", ec.message()}});
    caf::anon_send_exit(ctx->supervisor, caf::exit_reason::user_shutdown);
    return 1;
  }
  lst->run();
  auto srv = std::make_shared<server>(server{sys, ioc, ctx, lst, {}, {}});
  auto signals = std::make_shared<asio::signal_set>(ioc, SIGINT, SIGTERM);
  await_signal(srv, signals);
  log::lifecycle("listening", {{"host", cfg.host},
                               {"port", lst->local_endpoint().port()},
                               {"version", ACTOREXEC_VERSION},
                               {"max_sessions", cfg.actors.max_sessions},
                               {"auth", !cfg.auth_token.empty()},
                               {"run_as", cfg.run_as}});
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < cfg.io_threads; ++i)
    threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads)
    t.join();
  caf::anon_send_exit(ctx->supervisor, caf::exit_reason::user_shutdown);
  ctx->supervisor = nullptr;
  signals.reset();
  srv.reset();
  lst.reset();
  ctx.reset();
  ioc.restart();
  // Handlers still queued hold sockets; destroying them lets every
  // connection actor learn its socket is gone, so the actor system can end.
  ioc.poll();
  ioc.shutdown();
  // The last actors drop their strands and pipes here, not after `ioc` (and
  // its services) went away at the end of this scope.
  sys.await_all_actors_done();
  if (auto relay = stop_timer_relay(sys)) {
    caf::scoped_actor self{sys};
    self->wait_for(relay);
  }
  log::lifecycle("stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // A client that vanishes mid-write must cost an error code, not the server.
  ::signal(SIGPIPE, SIG_IGN);
  // Children stay zombies until their process actor is done (the zombie
  // keeps the group's number ours, see child_io); an inherited SIG_IGN or
  // SA_NOCLDWAIT would have the kernel reap them behind our back.
  ::signal(SIGCHLD, SIG_DFL);
  app::config cfg;
  if (auto err = app::parse_config(argc, argv, app::environment_map(), cfg)) {
    std::fprintf(stderr, "actorexec: %s (see --help)\n", err->c_str());
    return 2;
  }
  if (cfg.show_help) {
    std::fputs(app::help_text().c_str(), stdout);
    return 0;
  }
  if (cfg.show_version) {
    std::puts("actorexec " ACTOREXEC_VERSION);
    return 0;
  }
  // The token now lives in cfg; keep it out of the environment that
  // anything spawned later could inherit.
  ::unsetenv("ACTOREXEC_AUTH_TOKEN");
  if (!log::set_level(cfg.log_level)) {
    std::fprintf(stderr, "actorexec: unknown log level '%s'\n",
                 cfg.log_level.c_str());
    return 2;
  }
  app::ensure_fd_limit(cfg);
  return run(cfg);
}
