#pragma once

// Shared fixture of the actor suites: a CAF actor system on the
// deterministic test coordinator (virtual time, no threads), a fake child
// behind the child_port seam, and a mock connection that records frames.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/child_io.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"
#include "actors/timer_relay.hpp"

namespace actorexec::test {

/// A child that never runs: records what the process actor asks of it.
struct fake_child : child_port {
  pid_t pid_value = 4242;
  std::vector<int> signals;
  /// Outstanding read size per stream (0: none).
  std::size_t reading[2] = {0, 0};
  std::size_t reads_issued = 0;
  std::vector<std::string> writes;
  bool stdin_closed = false;
  bool waiting = false;
  bool pipes_closed = false;
  /// `release` calls (only the first counts), and whether the first one
  /// killed the group.
  int releases = 0;
  bool killed_on_exit = false;
  /// Signals asked for after `release`: after the real reap they would go
  /// to whoever got the group's number next.
  std::vector<int> signals_after_release;
  /// The process actor, held until `release` as child_io holds it (its
  /// pending wait): while its child lives, the actor lives, whoever else
  /// lets go of it (its timers hold it only weakly).
  caf::actor owner;

  pid_t pid() const override { return pid_value; }
  void read(protocol::stream_kind s, std::size_t n) override {
    reading[static_cast<int>(s)] = n;
    ++reads_issued;
  }
  void write(std::string data, bool eof) override {
    writes.push_back(std::move(data));
    stdin_closed = stdin_closed || eof;
  }
  void wait() override { waiting = true; }
  void signal_group(int sig) override {
    (releases > 0 ? signals_after_release : signals).push_back(sig);
  }
  void close_pipes() override { pipes_closed = true; }
  void release(bool kill) override {
    if (releases++ == 0)
      killed_on_exit = kill;
    owner = nullptr;
  }
  bool got(int sig) const {
    for (auto s : signals)
      if (s == sig)
        return true;
    return false;
  }
};

/// Everything a mock connection saw.
struct conn_log {
  std::vector<std::string> frames;
  std::vector<bool> credited;
  /// Bytes of each credited batch, in order.
  std::vector<std::uint64_t> credited_batches;
  std::vector<close_reason> closes;
  /// Parsed frames, for assertions.
  std::vector<boost::json::object> parsed() const {
    std::vector<boost::json::object> out;
    for (auto& f : frames)
      out.push_back(boost::json::parse(f).as_object());
    return out;
  }
  /// Frames whose method is `m`.
  std::vector<boost::json::object> with_method(const std::string& m) const {
    std::vector<boost::json::object> out;
    for (auto& o : parsed())
      if (o.contains("method") && o.at("method").as_string() == m)
        out.push_back(o);
    return out;
  }
  std::uint64_t credited_bytes() const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < frames.size(); ++i)
      if (credited[i])
        n += frames[i].size();
    return n;
  }
};

/// A connection actor stand-in: records frames and closes; forwards what
/// the test tells it to say to a session (the session checks the sender).
inline caf::behavior mock_conn(caf::event_based_actor* self,
                               std::shared_ptr<conn_log> log) {
  return {
      [=](frames_atom, frame_batch& b) {
        if (b.credited)
          log->credited_batches.push_back(b.text.size());
        std::string_view text = b.text;
        for (auto size : b.sizes) {
          log->frames.emplace_back(text.substr(0, size));
          log->credited.push_back(b.credited);
          text.remove_prefix(size);
        }
      },
      [=](close_atom, close_reason why, std::string&) {
        log->closes.push_back(why);
      },
      [=](written_atom, std::uint64_t n, caf::actor& session) {
        self->send(session, written_atom::value, n);
      },
      [=](peer_gone_atom, bool clean, caf::actor& session) {
        self->send(session, peer_gone_atom::value, clean);
      },
  };
}

struct actor_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<settings> conf = std::make_shared<settings>();
  std::shared_ptr<server_stats> stats = std::make_shared<server_stats>();
  /// Every fake child started, in order.
  std::shared_ptr<std::vector<std::shared_ptr<fake_child>>> children =
      std::make_shared<std::vector<std::shared_ptr<fake_child>>>();
  /// When set, spawning fails with this errno.
  std::shared_ptr<int> spawn_errno = std::make_shared<int>(0);
  /// The process actors that asked for a child. A fake child never exits
  /// unless told, so they would wait forever, each holding its session, which
  /// holds it: the fixture's end kills them to break that cycle.
  std::shared_ptr<std::vector<caf::weak_actor_ptr>> owners =
      std::make_shared<std::vector<caf::weak_actor_ptr>>();

  actor_fixture() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    log::set_level("error"); // keep test output to the findings
    sys = std::make_unique<caf::actor_system>(cfg);
    // Mock actors never quit on their own; the fixture's end ends them.
    sys->await_actors_before_shutdown(false);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  ~actor_fixture() {
    for (auto& weak : *owners)
      if (auto owner = caf::actor_cast<caf::actor>(weak))
        caf::anon_send_exit(owner, caf::exit_reason::kill);
    stop_timer_relay(*sys);
    run();
  }

  child_spawner spawner() {
    return [kids = children, err = spawn_errno, owners = owners](
               const spawn_spec&, caf::actor owner,
               boost::system::error_code& ec) -> std::shared_ptr<child_port> {
      owners->push_back(caf::actor_cast<caf::weak_actor_ptr>(owner));
      if (*err != 0) {
        ec.assign(*err, boost::system::system_category());
        return nullptr;
      }
      auto c = std::make_shared<fake_child>();
      c->pid_value = static_cast<pid_t>(4242 + kids->size());
      c->owner = owner;
      kids->push_back(c);
      return c;
    };
  }

  void run() { sched->run(); }

  /// Moves virtual time on and runs everything that became due.
  void advance(caf::timespan t) {
    sched->advance_time(t);
    run();
  }

  fake_child& child(std::size_t i = 0) { return *children->at(i); }
};

/// A request as the connection would route it.
inline protocol::request make_request(const char* json) {
  auto res = protocol::decode(json);
  if (!res.req)
    throw std::runtime_error(std::string{"bad test request: "} + json);
  return *res.req;
}

} // namespace actorexec::test
