#define BOOST_TEST_MODULE actors_session
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <algorithm>

#include "actors/process.hpp"
#include "actors/session.hpp"
#include "protocol/encode.hpp"
#include "tests/actors/fixture.hpp"

using namespace actorexec;
using namespace actorexec::test;
using namespace std::chrono_literals;
using protocol::stream_kind;

namespace {

struct fixture : actor_fixture {
  std::shared_ptr<conn_log> log = std::make_shared<conn_log>();
  caf::actor conn = sys->spawn(mock_conn, log);
  caf::actor session;

  fixture() {
    conf->max_buffer_bytes = 4096;
    conf->max_buffer_frames = 1000;
    conf->read_chunk_bytes = 1024;
    conf->replay_window_bytes = 1024;
    conf->connection_window_bytes = 2048;
    conf->session_linger_ms = 60000;
    conf->close_grace_ms = 2000;
  }

  void open() {
    session = sys->spawn(session_actor, std::string{"s-1"}, conn, spawner(),
                         conf, stats);
    run();
  }

  void request(const char* json) {
    caf::anon_send(session, request_atom::value, make_request(json));
    run();
  }

  session_state& state() {
    return caf::actor_cast<session_actor_type*>(session)->state;
  }

  caf::actor proc() { return state().proc; }

  /// The child writes `data` to `stream`, as the pipe read would report it.
  void child_writes(stream_kind s, std::string data, bool eof = false) {
    caf::anon_send(proc(), read_atom::value, s, std::move(data), eof);
    run();
  }

  /// Fills the outstanding stdout read from an endless stream of numbered
  /// 64-byte lines, cut wherever the read's size says (as a pipe would);
  /// returns the bytes written, 0 when no read was outstanding (the child
  /// would block). `counter` counts the lines begun.
  std::size_t child_floods_once(std::size_t& counter) {
    auto want = child().reading[0];
    if (want == 0)
      return 0;
    std::string data;
    while (data.size() < want) {
      if (flood_rest.empty()) {
        flood_rest = std::to_string(counter++);
        flood_rest.resize(63, '.');
        flood_rest += '\n';
      }
      auto take = std::min(flood_rest.size(), want - data.size());
      data += flood_rest.substr(0, take);
      flood_rest.erase(0, take);
    }
    child().reading[0] = 0;
    auto n = data.size();
    child_writes(stream_kind::out, std::move(data));
    return n;
  }

  /// The part of the current flood line not written yet.
  std::string flood_rest;

  /// Opens a session with a 2 KiB connection window, of which `guaranteed`
  /// bytes are its own and `budget` the server's, and executes a flood.
  void execute_flood(std::size_t guaranteed, std::size_t budget) {
    conf->connection_window_bytes = 2048;
    conf->guaranteed_window_bytes = guaranteed;
    conf->window_budget_bytes = budget;
    open();
    request(
        R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"flood"}})");
  }

  /// Credited bytes handed to the connection and not yet written.
  std::int64_t in_flight() const {
    return static_cast<std::int64_t>(log->credited_bytes() - written);
  }

  /// The socket wrote every credited frame so far.
  void socket_writes_all() {
    auto due = log->credited_bytes() - written;
    written += due;
    caf::anon_send(conn, written_atom::value, due, session);
    run();
  }

  void finish_child(int status = 0) {
    child_writes(stream_kind::out, {}, true);
    child_writes(stream_kind::err, {}, true);
    caf::anon_send(proc(), exited_atom::value, status);
    run();
  }

  std::vector<std::uint64_t> seqs() const {
    std::vector<std::uint64_t> out;
    for (auto& f : log->parsed())
      if (f.contains("params") && f.at("params").as_object().contains("seq") &&
          f.at("params").at("seq").is_int64())
        out.push_back(f.at("params").at("seq").as_int64());
    return out;
  }

  std::uint64_t written = 0;
};

/// The frame of flood line `i` (`child_floods_once`), sent with seq
/// `i + 2`: process.started is seq 1.
std::string flood_frame(std::size_t i) {
  protocol::output_piece p;
  p.data = std::to_string(i);
  p.data.resize(63, '.');
  p.data += '\n';
  return protocol::encode_output(stream_kind::out, p, i + 2);
}

/// A window sends while below `bound`: starting from `in_flight` bytes, the
/// bytes in flight once flood frames from line `next` on are sent, the one
/// that crosses the bound included. Moves `next` past the lines sent.
std::int64_t fill_window(std::int64_t in_flight, std::size_t& next,
                         std::int64_t bound) {
  while (in_flight < bound)
    in_flight += static_cast<std::int64_t>(flood_frame(next++).size());
  return in_flight;
}

/// Before any output a session guesses 4 bytes an event (event_flow.cpp):
/// its first grant, made on an empty buffer, is what the frame bound allows
/// at that guess, or the byte bound, whichever is smaller. A child that
/// writes faster than anybody reads produces exactly that: once its output
/// arrives, the buffer is too full for another grant.
std::uint64_t first_grant(const settings& conf) {
  return std::min<std::uint64_t>(conf.max_buffer_bytes,
                                 conf.max_buffer_frames * 4);
}

bool contiguous_from_1(const std::vector<std::uint64_t>& v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] != i + 1)
      return false;
  return true;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_session, fixture)

BOOST_AUTO_TEST_CASE(execute_answers_then_sends_process_started) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":7,"method":"execute","params":{"command":"echo hi"}})");
  auto frames = log->parsed();
  BOOST_REQUIRE(frames.size() == 2u);
  BOOST_TEST(frames[0].at("id").as_int64() == 7);
  BOOST_TEST(frames[0].at("result").at("status").as_string() == "started");
  BOOST_TEST(frames[0].at("result").at("pid").as_int64() == 4242);
  BOOST_TEST(frames[1].at("method").as_string() == "process.started");
  BOOST_TEST(frames[1].at("params").at("seq").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(second_execute_while_running_is_refused) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"a"}})");
  request(
      R"({"jsonrpc":"2.0","id":2,"method":"execute","params":{"command":"b"}})");
  auto last = log->parsed().back();
  BOOST_TEST(last.at("error").at("code").as_int64() == -32602);
  BOOST_TEST(last.at("error").at("message").as_string() ==
             "A process is already running");
  BOOST_TEST(children->size() == 1u);
}

BOOST_AUTO_TEST_CASE(allow_list_refuses_before_spawning) {
  conf->allowed = protocol::allow_list::parse("echo");
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"echo ok; rm x"}})");
  BOOST_TEST(log->parsed().back().at("error").at("code").as_int64() == -32001);
  BOOST_TEST(children->empty());
}

BOOST_AUTO_TEST_CASE(allow_list_refuses_env_before_spawning) {
  conf->allowed = protocol::allow_list::parse("echo");
  conf->allowed_env = protocol::env_policy::parse("LANG");
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"argv":["echo","hi"],"env":{"LANG":"C","LD_PRELOAD":"/tmp/x.so"}}})");
  auto error = log->parsed().back().at("error");
  BOOST_TEST(error.at("code").as_int64() == -32602);
  BOOST_TEST(error.at("message").as_string() ==
             "Invalid params: env variable 'LD_PRELOAD' is not allowed when "
             "ALLOWED_COMMANDS is set: it makes the dynamic loader or the C "
             "library load other code");
  request(
      R"({"jsonrpc":"2.0","id":2,"method":"execute","params":{"command":"echo hi","env":{"TZ":"UTC"}}})");
  BOOST_TEST(log->parsed().back().at("error").at("code").as_int64() == -32602);
  BOOST_TEST(children->empty());
  request(
      R"({"jsonrpc":"2.0","id":3,"method":"execute","params":{"command":"echo hi","env":{"LANG":"C"}}})");
  BOOST_TEST(children->size() == 1u);
}

BOOST_AUTO_TEST_CASE(env_is_not_checked_without_an_allow_list) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x","env":{"LD_PRELOAD":"/tmp/x.so","BASH_FUNC_x%%":"() { :; }"}}})");
  BOOST_TEST(children->size() == 1u);
}

BOOST_AUTO_TEST_CASE(control_and_input_without_a_process_are_refused) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"control","params":{"type":"PAUSE"}})");
  request(R"({"jsonrpc":"2.0","id":2,"method":"input","params":{"data":"x"}})");
  auto f = log->parsed();
  BOOST_TEST(f[0].at("error").at("code").as_int64() == -32002);
  BOOST_TEST(f[1].at("error").at("code").as_int64() == -32002);
}

BOOST_AUTO_TEST_CASE(output_and_completion_carry_contiguous_seq) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  child_writes(stream_kind::out, "a\nb\n");
  child_writes(stream_kind::err, "e\n");
  finish_child(0);
  auto out = log->with_method("process.output");
  BOOST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].at("params").at("data").as_string() == "a\n");
  BOOST_TEST(out[2].at("params").at("type").as_string() == "stderr");
  auto done = log->with_method("process.completed");
  BOOST_REQUIRE(done.size() == 1u);
  BOOST_TEST(done[0].at("params").at("exit_code").as_int64() == 0);
  BOOST_TEST(contiguous_from_1(seqs()));
  BOOST_TEST(seqs().size() == 5u);
}

BOOST_AUTO_TEST_CASE(pause_response_precedes_its_event) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  request(
      R"({"jsonrpc":"2.0","id":"p","method":"control","params":{"type":"pause"}})");
  auto f = log->parsed();
  BOOST_REQUIRE(f.size() == 4u);
  BOOST_TEST(f[2].at("result").at("status").as_string() == "paused");
  BOOST_TEST(f[3].at("method").as_string() == "process.paused");
  BOOST_TEST(child().got(SIGSTOP));
}

BOOST_AUTO_TEST_CASE(block_policy_bounds_retention_and_stops_the_child) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"flood"}})");
  std::size_t counter = 0, produced = 0;
  // The client never reads: floods until the child would block.
  for (int i = 0; i < 1000; ++i) {
    auto n = child_floods_once(counter);
    if (n == 0)
      break;
    produced += n;
    // No actor holds more than its window: retention plus credit in flight
    // never exceeds the buffer bound.
    BOOST_TEST(state().flow->buffered_bytes() +
                   state().flow->outstanding_credit() <=
               conf->max_buffer_bytes);
  }
  BOOST_TEST(child().reading[0] == 0u); // blocked: no read outstanding
  BOOST_TEST(produced == first_grant(*conf));
  // Every whole line is retained, none was written.
  BOOST_TEST(state().flow->buffered_bytes() == produced / 64 * 64);
  BOOST_TEST(state().flow->events().size() == 1 + produced / 64);
  // The socket catches up: written events leave the window, reading resumes.
  for (int i = 0; i < 20 && child().reading[0] == 0; ++i)
    socket_writes_all();
  BOOST_TEST(child().reading[0] > 0u);
}

BOOST_AUTO_TEST_CASE(connection_window_borrows_from_the_server_wide_budget) {
  execute_flood(512, 1024);
  std::size_t counter = 0;
  // Other sessions hold the whole budget: this one keeps to its
  // guaranteed part (the frame that crosses it counts as borrowed).
  stats->borrowed_window_bytes = 1024;
  for (int i = 0; i < 50 && child_floods_once(counter) > 0; ++i)
    ;
  BOOST_REQUIRE(log->credited.size() > 1u && log->credited[1]);
  auto started = static_cast<std::int64_t>(log->frames[1].size());
  std::size_t next = 0;
  auto expected = fill_window(started, next, 512);
  BOOST_TEST(in_flight() == expected);
  BOOST_TEST(stats->borrowed_window_bytes == 1024 + expected - 512);
  // The others are done: after its socket writes, the session borrows up
  // to the budget.
  stats->borrowed_window_bytes -= 1024;
  socket_writes_all();
  for (int i = 0; i < 50 && child_floods_once(counter) > 0; ++i)
    ;
  expected = fill_window(0, next, 512 + 1024);
  BOOST_TEST(in_flight() == expected);
  BOOST_TEST(stats->borrowed_window_bytes == expected - 512);
  // Those were the flood's lines, in order, and no other frame.
  BOOST_REQUIRE_EQUAL(log->frames.size(), 2 + next);
  for (std::size_t i = 0; i < next; ++i)
    BOOST_TEST(log->frames[2 + i] == flood_frame(i));
  // Ending the session gives back what it borrowed.
  caf::anon_send(conn, peer_gone_atom::value, true, session);
  run();
  BOOST_TEST(stats->borrowed_window_bytes == 0);
}

BOOST_AUTO_TEST_CASE(a_session_that_cannot_borrow_waits_for_half_its_window) {
  execute_flood(1024, 0);
  std::size_t counter = 0;
  for (int i = 0; i < 50 && child_floods_once(counter) > 0; ++i)
    ;
  BOOST_REQUIRE(log->frames.size() > 2u && log->credited[1]);
  std::size_t next = 0;
  auto full =
      fill_window(static_cast<std::int64_t>(log->frames[1].size()), next, 1024);
  BOOST_REQUIRE_EQUAL(in_flight(), full);
  // The socket writes a frame at a time: no batch goes until half the
  // guaranteed window is free, then one batch refills it.
  auto batches = log->credited_batches.size();
  std::uint64_t freed = 0;
  for (std::size_t i = 0; log->credited_batches.size() == batches; ++i) {
    BOOST_REQUIRE(i < log->frames.size());
    auto size = log->frames[i].size();
    if (!log->credited[i])
      continue;
    freed += size;
    written += size;
    caf::anon_send(conn, written_atom::value, std::uint64_t{size}, session);
    run();
  }
  // The frames written, in order, until no more than half is in flight.
  std::uint64_t expected_freed = log->frames[1].size();
  for (std::size_t i = 0; full - static_cast<std::int64_t>(expected_freed) >
                          static_cast<std::int64_t>(512);
       ++i)
    expected_freed += flood_frame(i).size();
  BOOST_TEST(freed == expected_freed);
  BOOST_TEST(log->credited_batches.size() == batches + 1);
  auto left = full - static_cast<std::int64_t>(freed);
  auto refilled = fill_window(left, next, 1024);
  BOOST_TEST(log->credited_batches.back() ==
             static_cast<std::uint64_t>(refilled - left));
  BOOST_TEST(in_flight() == refilled);
}

BOOST_AUTO_TEST_CASE(block_policy_bounds_frames_of_short_lines) {
  // `seq`: lines of a few bytes. A byte bound alone would let a megabyte of
  // them (150,000 events) into the buffer; the frame bound must hold too.
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"seq"}})");
  std::string rest;
  std::size_t next = 1, produced = 0;
  for (int i = 0; i < 1000 && child().reading[0] > 0; ++i) {
    std::string data;
    auto want = child().reading[0];
    while (data.size() < want) {
      if (rest.empty())
        rest = std::to_string(next++) + "\n";
      auto take = std::min(rest.size(), want - data.size());
      data += rest.substr(0, take);
      rest.erase(0, take);
    }
    child().reading[0] = 0;
    produced += data.size();
    child_writes(stream_kind::out, std::move(data));
    // The mean line length is learnt as output arrives, so the bound may be
    // passed by a few lines of one read, never by a megabyte's worth.
    BOOST_TEST(state().flow->events().size() <=
               conf->max_buffer_frames + conf->max_buffer_frames / 10);
  }
  BOOST_TEST(child().reading[0] == 0u); // blocked
  // The first grant read, no more: every whole line in it is an event.
  BOOST_TEST(produced == first_grant(*conf));
  std::size_t lines = 0, bytes = 0;
  for (std::size_t n = 1; bytes + std::to_string(n).size() + 1 <= produced;
       ++n, ++lines)
    bytes += std::to_string(n).size() + 1;
  BOOST_TEST(state().flow->events().size() == 1 + lines);
  BOOST_TEST_MESSAGE("retained " << state().flow->events().size()
                                 << " events of " << produced << " bytes");
}

BOOST_AUTO_TEST_CASE(block_policy_delivers_everything_in_order) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"flood"}})");
  std::size_t counter = 0;
  for (int i = 0; i < 200; ++i) {
    child_floods_once(counter);
    socket_writes_all();
  }
  finish_child(0);
  for (int i = 0; i < 100; ++i)
    socket_writes_all();
  auto out = log->with_method("process.output");
  BOOST_TEST_MESSAGE("lines " << counter);
  BOOST_REQUIRE(out.size() == counter);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::string data{out[i].at("params").at("data").as_string()};
    BOOST_TEST(std::stoul(data) == i);
  }
  BOOST_TEST(contiguous_from_1(seqs()));
}

BOOST_AUTO_TEST_CASE(drop_oldest_keeps_the_child_running_and_reports_gaps) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"flood","on_overflow":"drop_oldest"}})");
  std::size_t counter = 0, produced = 0;
  for (int i = 0; i < 100; ++i) {
    auto n = child_floods_once(counter);
    BOOST_REQUIRE(n > 0u); // never blocks
    produced += n;
    BOOST_TEST(state().flow->buffered_bytes() <= conf->max_buffer_bytes);
  }
  // Now the client reads everything.
  for (int i = 0; i < 200 && (!state().flow->events().caught_up() ||
                              state().flow->events().has_unsent());
       ++i)
    socket_writes_all();
  finish_child(0);
  socket_writes_all();
  std::uint64_t received = 0, dropped = 0;
  for (auto& o : log->with_method("process.output"))
    received += o.at("params").at("data").as_string().size();
  auto gaps = log->with_method("stream.gap");
  std::uint64_t dropped_frames = 0;
  for (auto& g : gaps) {
    dropped += g.at("params").at("dropped_bytes").as_int64();
    dropped_frames += g.at("params").at("dropped_frames").as_int64();
  }
  BOOST_TEST(received + dropped == produced);
  // The gaps tell exactly what the session dropped, frame for frame.
  BOOST_TEST(dropped > 0u);
  BOOST_TEST(dropped == state().flow->dropped_bytes());
  BOOST_TEST(dropped == stats->dropped_bytes_total.load());
  BOOST_TEST(dropped_frames == stats->dropped_frames_total.load());
  BOOST_TEST(log->with_method("process.output").size() + dropped_frames ==
             counter);
  BOOST_TEST(contiguous_from_1(seqs()));
}

BOOST_AUTO_TEST_CASE(ack_releases_retention_and_status_reports_it) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  child_writes(stream_kind::out, "1\n2\n3\n");
  BOOST_TEST(state().flow->events().size() == 4u);
  request(R"({"jsonrpc":"2.0","method":"ack","params":{"seq":3}})");
  BOOST_TEST(state().flow->events().size() == 1u);
  request(R"({"jsonrpc":"2.0","id":9,"method":"status"})");
  auto st = log->parsed().back().at("result").as_object();
  BOOST_TEST(st.at("acked_seq").as_int64() == 3);
  BOOST_TEST(st.at("last_seq").as_int64() == 4);
  BOOST_TEST(st.at("buffered_bytes").as_int64() == 2);
  BOOST_TEST(st.at("state").as_string() == "attached");
}

BOOST_AUTO_TEST_CASE(clean_close_ends_the_session_and_its_group) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  caf::anon_send(conn, peer_gone_atom::value, true, session);
  run();
  BOOST_TEST(child().got(SIGTERM));
  advance(2000ms);
  BOOST_TEST(child().got(SIGKILL));
}

BOOST_AUTO_TEST_CASE(lost_connection_detaches_then_expires_after_linger) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  caf::anon_send(conn, peer_gone_atom::value, false, session);
  run();
  BOOST_TEST(to_string(state().phase) == std::string{"detached"});
  BOOST_TEST(stats->detached_sessions.load() == 1);
  BOOST_TEST(!child().got(SIGTERM)); // the process keeps running
  advance(59999ms);
  BOOST_TEST(!child().got(SIGTERM));
  advance(1ms);
  BOOST_TEST(child().got(SIGTERM));
  BOOST_TEST(stats->detached_sessions.load() == 0);
}

BOOST_AUTO_TEST_CASE(resume_replays_exactly_what_follows_last_seq) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  child_writes(stream_kind::out, "a\nb\nc\n"); // seq 2, 3, 4
  caf::anon_send(conn, peer_gone_atom::value, false, session);
  run();
  child_writes(stream_kind::out, "d\n"); // produced while detached
  auto log2 = std::make_shared<conn_log>();
  auto conn2 = sys->spawn(mock_conn, log2);
  auto req = make_request(
      R"({"jsonrpc":"2.0","id":5,"method":"resume","params":{"session_id":"s-1","resume_token":"t","last_seq":3}})");
  caf::anon_send(session, attach_atom::value, conn2, req);
  run();
  auto f = log2->parsed();
  BOOST_REQUIRE(f.size() == 3u);
  BOOST_TEST(f[0].at("result").at("status").as_string() == "resumed");
  BOOST_TEST(f[1].at("params").at("data").as_string() == "c\n");
  BOOST_TEST(f[1].at("params").at("seq").as_int64() == 4);
  BOOST_TEST(f[2].at("params").at("data").as_string() == "d\n");
  BOOST_TEST(f[2].at("params").at("seq").as_int64() == 5);
  BOOST_TEST(to_string(state().phase) == std::string{"attached"});
  // The linger timer no longer applies.
  advance(120s);
  BOOST_TEST(!child().got(SIGTERM));
}

BOOST_AUTO_TEST_CASE(resume_of_an_attached_session_closes_the_old_one) {
  open();
  auto conn2 = sys->spawn(mock_conn, std::make_shared<conn_log>());
  auto req = make_request(
      R"({"jsonrpc":"2.0","id":5,"method":"resume","params":{"session_id":"s-1","resume_token":"t","last_seq":0}})");
  caf::anon_send(session, attach_atom::value, conn2, req);
  run();
  BOOST_REQUIRE(log->closes.size() == 1u);
  BOOST_TEST((log->closes[0] == close_reason::taken_over));
}

BOOST_AUTO_TEST_CASE(resume_from_before_the_window_reports_a_gap) {
  conf->replay_window_bytes = 0; // a client that never acks keeps nothing
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  child_writes(stream_kind::out, "a\nbb\nccc\ndddd\n"); // seq 2..5
  socket_writes_all();
  caf::anon_send(conn, peer_gone_atom::value, false, session);
  run();
  auto log2 = std::make_shared<conn_log>();
  auto conn2 = sys->spawn(mock_conn, log2);
  auto req = make_request(
      R"({"jsonrpc":"2.0","id":5,"method":"resume","params":{"session_id":"s-1","resume_token":"t","last_seq":2}})");
  caf::anon_send(session, attach_atom::value, conn2, req);
  run();
  auto gaps = log2->with_method("stream.gap");
  BOOST_REQUIRE(gaps.size() == 1u);
  // A window of 0 bytes keeps the last written event only (an event goes
  // once more than the window was written after it): seq 3 and 4 (bb,
  // ccc) are gone, seq 5 (dddd) is replayed.
  auto p = gaps[0].at("params").as_object();
  BOOST_TEST(p.at("dropped_frames").as_int64() == 2);
  BOOST_TEST(p.at("dropped_bytes").as_int64() == 3 + 4);
  BOOST_TEST(p.at("seq").as_int64() == 4);
  auto replayed = log2->with_method("process.output");
  BOOST_REQUIRE_EQUAL(replayed.size(), 1u);
  BOOST_TEST(replayed[0].at("params").at("data").as_string() == "dddd\n");
  BOOST_TEST(replayed[0].at("params").at("seq").as_int64() == 5);
}

BOOST_AUTO_TEST_CASE(shutdown_announces_waits_for_the_grace_then_ends) {
  open();
  request(
      R"({"jsonrpc":"2.0","id":1,"method":"execute","params":{"command":"x"}})");
  caf::anon_send(session, shutdown_atom::value, std::uint64_t{10000});
  run();
  BOOST_TEST(log->with_method("server.shutdown").size() == 1u);
  advance(9999ms);
  BOOST_TEST(!child().got(SIGTERM));
  advance(1ms);
  BOOST_TEST(child().got(SIGTERM));
  finish_child(SIGTERM);
  BOOST_REQUIRE(!log->closes.empty());
  BOOST_TEST((log->closes.back() == close_reason::shutdown));
  BOOST_TEST(log->with_method("process.completed").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
