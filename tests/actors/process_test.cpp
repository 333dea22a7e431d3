#define BOOST_TEST_MODULE actors_process
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include "actors/process.hpp"
#include "tests/actors/fixture.hpp"

using namespace actorexec;
using namespace actorexec::test;
using namespace std::chrono_literals;
using protocol::stream_kind;

namespace {

/// The wire spelling of a status, so failures print it.
std::string wire(protocol::end_status s) {
  return protocol::to_string(s);
}

/// What the process actor told its session.
struct session_log {
  bool started = false;
  std::optional<int> failed_code;
  std::vector<output_batch> output;
  std::optional<protocol::completion> done;
  std::string text(stream_kind s) const {
    std::string out;
    for (auto& b : output)
      if (b.stream == s)
        for (auto& p : b.pieces)
          out += protocol::piece_bytes(p);
    return out;
  }
};

caf::behavior mock_session(caf::event_based_actor*,
                           std::shared_ptr<session_log> log) {
  return {
      [=](started_atom, std::int64_t, std::int64_t) { log->started = true; },
      [=](failed_atom, int code, std::string&) { log->failed_code = code; },
      [=](output_atom, output_batch& b) {
        log->output.push_back(std::move(b));
      },
      [=](done_atom, protocol::completion& c) { log->done = c; },
  };
}

struct fixture : actor_fixture {
  std::shared_ptr<session_log> log = std::make_shared<session_log>();
  caf::actor session = sys->spawn(mock_session, log);
  caf::actor proc;

  void start(protocol::execute_params params = {}) {
    if (!params.command && params.argv.empty())
      params.command = "true";
    conf->cancel_grace_ms = 5000;
    spawn_spec spec{params, "bash", {}, {}, nullptr};
    proc = sys->spawn(process_actor, session, spec, spawner(), conf, stats);
    run();
  }

  template <class... Ts>
  void send(Ts... xs) {
    caf::anon_send(proc, xs...);
    run();
  }

  void eof_both() {
    send(read_atom::value, stream_kind::out, std::string{}, true);
    send(read_atom::value, stream_kind::err, std::string{}, true);
  }

  /// The child exits (not reaped: the child_io keeps its zombie).
  void exits(int status) { send(exited_atom::value, status); }

  /// Sends `type` as the session would and returns the status answered.
  /// Probes get their target as a spawn argument: CAF 0.17 binds a reference
  /// to a null shared_ptr<tuple<>> when an actor function is spawned without
  /// arguments (init_fun_factory.hpp), which UBSan's null check reports, and
  /// GCC's runtime cannot suppress a non-recoverable check.
  std::string control(protocol::control_type type) {
    std::string answer;
    auto probe = sys->spawn(
        [&](caf::event_based_actor* self, caf::actor target) {
          self->request(target, caf::infinite, control_atom::value, type)
              .then([&](protocol::control_status s) {
                answer = protocol::to_string(s);
              });
        },
        proc);
    run();
    return answer;
  }

  /// Sends `input` as the session would; `answer` is set when the process
  /// answers (it outlives the probe, so it belongs to the caller).
  void input(std::string data, bool eof, std::optional<input_result>& answer) {
    sys->spawn(
        [&answer](caf::event_based_actor* self, caf::actor target,
                  std::string bytes, bool last) {
          self->request(target, caf::infinite, input_atom::value,
                        std::move(bytes), last)
              .then([&answer](const input_result& x) { answer = x; });
        },
        proc, std::move(data), eof);
    run();
  }
};

constexpr int exited_0 = 0;           // waitpid status: exit(0)
constexpr int exited_3 = 3 << 8;      // exit(3)
constexpr int killed_by_9 = SIGKILL;  // death by SIGKILL
constexpr int killed_by_15 = SIGTERM; // death by SIGTERM

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_process, fixture)

BOOST_AUTO_TEST_CASE(spawn_reports_started_and_waits_for_the_child) {
  start();
  BOOST_TEST(log->started);
  BOOST_TEST(child().waiting);
  // No credit yet: no read may be issued.
  BOOST_TEST(child().reads_issued == 0u);
}

BOOST_AUTO_TEST_CASE(spawn_failure_is_reported_with_invalid_params) {
  *spawn_errno = ENOENT;
  start();
  BOOST_TEST(!log->started);
  BOOST_REQUIRE(log->failed_code.has_value());
  BOOST_TEST(*log->failed_code == -32602);
}

BOOST_AUTO_TEST_CASE(reads_only_within_credit) {
  conf->read_chunk_bytes = 100;
  start();
  send(credit_atom::value, std::uint64_t{150});
  // Each stream reads at most one chunk of the credit.
  BOOST_TEST(child().reading[0] == 100u);
  BOOST_TEST(child().reading[1] == 100u);
  child().reading[0] = 0; // the read completes
  send(read_atom::value, stream_kind::out, std::string(100, 'x'), false);
  BOOST_TEST(child().reading[0] == 50u); // 50 of the credit left
  child().reading[0] = 0;
  send(read_atom::value, stream_kind::out, std::string(50, 'x'), false);
  // Credit spent: no new read until the session grants more.
  BOOST_TEST(child().reading[0] == 0u);
  BOOST_TEST(log->output.size() == 2u);
  BOOST_TEST(log->output[0].raw_bytes == 100u);
  send(credit_atom::value, std::uint64_t{10});
  BOOST_TEST(child().reading[0] == 10u);
}

BOOST_AUTO_TEST_CASE(completion_waits_for_both_pipes_and_the_exit) {
  start();
  send(credit_atom::value, std::uint64_t{1000});
  exits(exited_0);
  BOOST_TEST(!log->done); // a grandchild may still hold the pipes
  send(read_atom::value, stream_kind::out, std::string{"bg\n"}, false);
  send(read_atom::value, stream_kind::out, std::string{}, true);
  BOOST_TEST(!log->done);
  send(read_atom::value, stream_kind::err, std::string{}, true);
  BOOST_REQUIRE(log->done);
  BOOST_TEST(wire(log->done->status) == "completed");
  BOOST_TEST(*log->done->exit_code == 0);
  BOOST_TEST(log->text(stream_kind::out) == "bg\n");
}

BOOST_AUTO_TEST_CASE(exit_codes_and_signals_are_reported) {
  start();
  eof_both();
  exits(exited_3);
  BOOST_REQUIRE(log->done);
  BOOST_TEST(wire(log->done->status) == "failed");
  BOOST_TEST(*log->done->exit_code == 3);
  BOOST_TEST(!log->done->signal);
}

BOOST_AUTO_TEST_CASE(cancel_ladder_ends_with_sigkill_after_the_grace) {
  start();
  BOOST_TEST(control(protocol::control_type::cancel) == "canceled");
  BOOST_TEST(child().got(SIGTERM));
  BOOST_TEST(!child().got(SIGKILL));
  advance(4999ms);
  BOOST_TEST(!child().got(SIGKILL));
  advance(1ms);
  BOOST_TEST(child().got(SIGKILL));
  eof_both();
  exits(killed_by_9);
  BOOST_REQUIRE(log->done);
  BOOST_TEST(wire(log->done->status) == "canceled");
  BOOST_TEST(*log->done->exit_code == -9);
  BOOST_TEST(*log->done->signal == 9);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_child_that_obeys_sigterm_needs_no_sigkill) {
  start();
  control(protocol::control_type::cancel);
  eof_both();
  exits(killed_by_15);
  BOOST_REQUIRE(log->done);
  BOOST_TEST(wire(log->done->status) == "canceled");
  BOOST_TEST(*log->done->exit_code == -15);
  advance(10s);
  BOOST_TEST(!child().got(SIGKILL));
}

BOOST_AUTO_TEST_CASE(pause_and_resume_signal_the_group) {
  start();
  BOOST_TEST(control(protocol::control_type::pause) == "paused");
  BOOST_TEST(child().got(SIGSTOP));
  BOOST_TEST(control(protocol::control_type::resume) == "resumed");
  BOOST_TEST(child().got(SIGCONT));
}

BOOST_AUTO_TEST_CASE(cancel_of_a_paused_child_continues_it) {
  start();
  control(protocol::control_type::pause);
  control(protocol::control_type::cancel);
  // SIGTERM, then SIGCONT so the stopped group can act on it.
  auto& sigs = child().signals;
  BOOST_REQUIRE(sigs.size() >= 3u);
  BOOST_TEST(sigs[sigs.size() - 2] == SIGTERM);
  BOOST_TEST(sigs.back() == SIGCONT);
}

BOOST_AUTO_TEST_CASE(wall_timeout_cancels_with_timed_out) {
  protocol::execute_params p;
  p.command = "sleep 100";
  p.timeout = 2.0;
  start(p);
  advance(1999ms);
  BOOST_TEST(!child().got(SIGTERM));
  advance(1ms);
  BOOST_TEST(child().got(SIGTERM));
  eof_both();
  exits(killed_by_15);
  BOOST_REQUIRE(log->done);
  BOOST_TEST(wire(log->done->status) == "timed_out");
}

// Issue 25 item 13: a timer holds its actor weakly. With CAF's
// delayed_send, a process that ended at once stayed in memory until its
// one-hour timeout fired.
BOOST_AUTO_TEST_CASE(an_ended_process_is_freed_before_its_timers_fire) {
  protocol::execute_params p;
  p.command = "true";
  p.timeout = 3600.0;
  p.idle_timeout = 3600.0;
  start(p);
  BOOST_TEST(sched->has_pending_timeout());
  eof_both();
  exits(exited_0);
  BOOST_REQUIRE(log->done);
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(proc);
  proc = nullptr;
  run();
  BOOST_TEST(!caf::actor_cast<caf::strong_actor_ptr>(weak));
  // The timers still fire, into the void.
  advance(3600s);
  BOOST_TEST(wire(log->done->status) == "completed");
}

BOOST_AUTO_TEST_CASE(paused_time_does_not_count_toward_the_timeout) {
  protocol::execute_params p;
  p.command = "sleep 100";
  p.timeout = 2.0;
  start(p);
  advance(1s);
  control(protocol::control_type::pause);
  advance(10s);
  BOOST_TEST(!child().got(SIGTERM));
  control(protocol::control_type::resume);
  advance(999ms);
  BOOST_TEST(!child().got(SIGTERM));
  advance(1ms);
  BOOST_TEST(child().got(SIGTERM));
}

BOOST_AUTO_TEST_CASE(idle_timeout_restarts_with_output) {
  protocol::execute_params p;
  p.command = "x";
  p.idle_timeout = 1.0;
  start(p);
  send(credit_atom::value, std::uint64_t{1000});
  advance(900ms);
  send(read_atom::value, stream_kind::out, std::string{"tick\n"}, false);
  advance(900ms);
  BOOST_TEST(!child().got(SIGTERM));
  advance(200ms);
  BOOST_TEST(child().got(SIGTERM));
}

BOOST_AUTO_TEST_CASE(input_needs_a_stdin_pipe) {
  start();
  std::optional<input_result> r;
  input("x", false, r);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->error == -32005);
}

BOOST_AUTO_TEST_CASE(input_is_answered_once_written) {
  protocol::execute_params p;
  p.command = "cat";
  p.stdin_pipe = true;
  start(p);
  std::optional<input_result> r;
  input("abc", true, r);
  BOOST_TEST(!r); // not before the bytes are in the pipe
  BOOST_REQUIRE(child().writes.size() == 1u);
  BOOST_TEST(child().writes[0] == "abc");
  BOOST_TEST(child().stdin_closed);
  send(wrote_atom::value, std::uint64_t{3}, 0);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->error == 0);
  BOOST_TEST(r->written == 3u);
}

// Input the child has not read waits in memory: past the limit it is
// refused at once, and every answered input frees its share.
BOOST_AUTO_TEST_CASE(pending_input_is_bounded) {
  conf->max_pending_input_bytes = 4096;
  protocol::execute_params p;
  p.command = "sleep 60";
  p.stdin_pipe = true;
  start(p);
  std::optional<input_result> r1, r2, r3, r4, r5, r6;
  input(std::string(3000, 'a'), false, r1);
  BOOST_TEST(!r1); // accepted: waits for the pipe
  input(std::string(2000, 'b'), false, r2);
  BOOST_REQUIRE(r2);
  BOOST_TEST(r2->error == -32006);
  BOOST_TEST(r2->message == "stdin busy: 3000 bytes pending (limit 4096)");
  BOOST_TEST(r2->data.at("pending_bytes").to_number<std::uint64_t>() == 3000u);
  BOOST_TEST(r2->data.at("limit").to_number<std::uint64_t>() == 4096u);
  // A short or empty input counts 1 KiB: the count of waiting requests is
  // bounded too.
  input("c", false, r3);
  BOOST_TEST(!r3); // 3000 + 1024 fits
  input("", false, r4);
  BOOST_REQUIRE(r4);
  BOOST_TEST(r4->message == "stdin busy: 4024 bytes pending (limit 4096)");
  BOOST_TEST(child().writes.size() == 2u); // refused bytes never queue
  // The first write completes: its share is free again.
  send(wrote_atom::value, std::uint64_t{3000}, 0);
  BOOST_REQUIRE(r1);
  BOOST_TEST(r1->error == 0);
  input(std::string(3000, 'd'), false, r5);
  BOOST_TEST(!r5); // 1024 + 3000
  send(wrote_atom::value, std::uint64_t{1}, 0);
  send(wrote_atom::value, std::uint64_t{3000}, 0);
  BOOST_TEST(r3.has_value());
  BOOST_TEST(r5.has_value());
  // With nothing waiting, even an input over the limit gets through.
  input(std::string(10000, 'e'), true, r6);
  BOOST_TEST(!r6);
  BOOST_TEST(child().writes.size() == 4u);
}

BOOST_AUTO_TEST_CASE(terminate_from_an_ending_session_discards_output) {
  start();
  send(terminate_atom::value, std::uint64_t{2000});
  BOOST_TEST(child().got(SIGTERM));
  // Reads continue regardless of credit so the pipes drain.
  BOOST_TEST(child().reading[0] > 0u);
  send(read_atom::value, stream_kind::out, std::string(100, 'x'), false);
  BOOST_TEST(log->output.empty());
  advance(2000ms);
  BOOST_TEST(child().got(SIGKILL));
  BOOST_TEST(child().pipes_closed);
}

BOOST_AUTO_TEST_CASE(a_dying_actor_kills_its_group) {
  start();
  caf::anon_send_exit(proc, caf::exit_reason::kill);
  run();
  BOOST_TEST(child().releases == 1);
  BOOST_TEST(child().killed_on_exit);
}

// The leader exited, something it started still holds the pipes: the
// process still runs for its session, so control still signals the group
// (the unreaped leader keeps its number ours). Only `done` releases the
// child to be reaped, and nothing is signalled after that.
BOOST_AUTO_TEST_CASE(signals_only_until_the_child_is_released) {
  start();
  exits(exited_0);
  BOOST_TEST(child().releases == 0); // not reaped while we may signal
  BOOST_TEST(control(protocol::control_type::pause) == "paused");
  BOOST_TEST(child().got(SIGSTOP));
  BOOST_TEST(control(protocol::control_type::cancel) == "canceled");
  BOOST_TEST(child().got(SIGTERM));
  BOOST_TEST(child().got(SIGCONT));
  eof_both();
  BOOST_REQUIRE(log->done);
  BOOST_TEST(wire(log->done->status) == "canceled");
  BOOST_TEST(*log->done->exit_code == 0);
  BOOST_TEST(child().releases > 0);
  BOOST_TEST(!child().killed_on_exit); // what is left of the group may live
  // The kill timer of the ladder, were it still armed, and any control
  // request find no actor.
  advance(10s);
  BOOST_TEST(control(protocol::control_type::pause).empty());
  BOOST_TEST(child().signals_after_release.empty());
  BOOST_TEST(!child().got(SIGKILL));
}

BOOST_AUTO_TEST_CASE(a_failed_wait_completes_as_failed_with_the_error) {
  start();
  eof_both();
  send(wait_failed_atom::value,
       std::string{"cannot wait for the process: No child processes"});
  BOOST_REQUIRE(log->done);
  BOOST_TEST(wire(log->done->status) == "failed");
  BOOST_TEST(!log->done->exit_code);
  BOOST_TEST(!log->done->signal);
  BOOST_REQUIRE(log->done->error);
  BOOST_TEST(*log->done->error ==
             "cannot wait for the process: No child processes");
  BOOST_TEST(child().releases > 0);
}

BOOST_AUTO_TEST_SUITE_END()
