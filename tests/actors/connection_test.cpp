#define BOOST_TEST_MODULE actors_connection
#include <boost/test/unit_test.hpp>

#include "actors/connection.hpp"
#include "actors/supervisor.hpp"
#include "tests/actors/fixture.hpp"

using namespace actorexec;
using namespace actorexec::test;
using namespace std::chrono_literals;

namespace {

/// The socket side of a connection: records what the actor writes.
struct mock_outbox : outbox {
  std::vector<std::string> frames;
  std::vector<close_reason> closes;
  /// Read charge the actor gave back.
  std::uint64_t consumed_bytes = 0;
  void consumed(std::uint64_t charge) override { consumed_bytes += charge; }
  void send(frame_batch fs) override {
    std::string_view text = fs.text;
    for (auto size : fs.sizes) {
      frames.emplace_back(text.substr(0, size));
      text.remove_prefix(size);
    }
  }
  void close(close_reason why, std::string) override { closes.push_back(why); }
};

/// A supervisor that opens every connection on `session`.
caf::behavior mock_supervisor(caf::event_based_actor*, caf::actor session) {
  return {
      [=](open_atom, caf::actor&) {
        return std::make_tuple(session, std::string{"s-1"},
                               std::string{"token"});
      },
  };
}

/// A session that records the methods routed to it and ignores the rest.
caf::behavior mock_session(caf::event_based_actor* self,
                           std::shared_ptr<std::vector<std::string>> got) {
  self->set_default_handler(caf::drop);
  return {
      [=](request_atom, protocol::request& req) { got->push_back(req.method); },
  };
}

struct fixture : actor_fixture {
  std::shared_ptr<mock_outbox> out = std::make_shared<mock_outbox>();
  std::shared_ptr<std::vector<std::string>> routed =
      std::make_shared<std::vector<std::string>>();
  caf::actor conn;

  fixture() {
    conf->json_ping_interval_ms = 0;
    conf->rate_limit_rps = 10;
    conf->rate_limit_burst = 3;
  }

  void open() {
    auto session = sys->spawn(mock_session, routed);
    auto sup = sys->spawn(mock_supervisor, session);
    conn =
        sys->spawn(connection_actor, std::uint64_t{1}, out, sup, conf, stats);
    run();
    BOOST_REQUIRE_EQUAL(out->frames.size(), 1u); // connected
    out->frames.clear();
  }

  void send(const std::string& json) {
    caf::anon_send(conn, frame_in_atom::value, json);
    run();
  }

  /// Sends a ping with `id` and returns the answer (the last frame).
  boost::json::object ping(int id) {
    auto before = out->frames.size();
    send(R"({"jsonrpc":"2.0","method":"ping","id":)" + std::to_string(id) +
         "}");
    BOOST_REQUIRE_EQUAL(out->frames.size(), before + 1);
    return boost::json::parse(out->frames.back()).as_object();
  }

  static bool ok(const boost::json::object& o) { return o.contains("result"); }

  /// Opens and spends the whole burst of 3 (ping ids 1 to 3).
  void open_and_spend_burst() {
    open();
    for (int i = 1; i <= 3; ++i)
      BOOST_TEST(ok(ping(i)));
  }

  /// The retry_after_ms of a -32029 answer; fails on anything else.
  static std::int64_t retry_after(const boost::json::object& o) {
    BOOST_REQUIRE(o.contains("error"));
    auto& err = o.at("error").as_object();
    BOOST_REQUIRE_EQUAL(err.at("code").as_int64(), -32029);
    return err.at("data").at("retry_after_ms").to_number<std::int64_t>();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(connection_rate_limit, fixture)

BOOST_AUTO_TEST_CASE(burst_then_refused_with_time_to_next_token) {
  open_and_spend_burst();
  auto refused = ping(4);
  BOOST_TEST(refused.at("id").as_int64() == 4);
  // One token at 10 per second: 100 ms away.
  BOOST_TEST(retry_after(refused) == 100);
  BOOST_TEST(
      stats->rpc_errors_total[server_stats::rpc_error_index(-32029)].load() ==
      1u);
}

BOOST_AUTO_TEST_CASE(refills_on_virtual_time) {
  open_and_spend_burst();
  advance(60ms);
  // 0.6 tokens: still refused, 40 ms to go.
  BOOST_TEST(retry_after(ping(4)) == 40);
  advance(39ms);
  BOOST_TEST(retry_after(ping(5)) == 1);
  advance(1ms);
  BOOST_TEST(ok(ping(6)));
  BOOST_TEST(retry_after(ping(7)) == 100);
}

BOOST_AUTO_TEST_CASE(refill_stops_at_burst) {
  open_and_spend_burst();
  advance(10s);
  for (int i = 4; i <= 6; ++i)
    BOOST_TEST(ok(ping(i)));
  BOOST_TEST(retry_after(ping(7)) == 100);
}

BOOST_AUTO_TEST_CASE(pong_and_ack_are_exempt) {
  open_and_spend_burst();
  send(R"({"jsonrpc":"2.0","method":"pong"})");
  BOOST_TEST(out->frames.size() == 3u); // no answer, no refusal
  send(R"({"jsonrpc":"2.0","method":"ack","params":{"seq":0},"id":9})");
  BOOST_TEST(out->frames.size() == 3u);
  BOOST_REQUIRE_EQUAL(routed->size(), 1u);
  BOOST_TEST(routed->front() == "ack");
  // They took no token either.
  BOOST_TEST(retry_after(ping(10)) == 100);
}

BOOST_AUTO_TEST_CASE(notifications_over_the_limit_are_dropped) {
  open_and_spend_burst();
  send(R"({"jsonrpc":"2.0","method":"ping"})");
  send(R"({"jsonrpc":"2.0","method":"status"})");
  send("not json");
  BOOST_TEST(out->frames.size() == 3u);
  BOOST_TEST(routed->empty());
  // Only answered refusals count as error responses.
  BOOST_TEST(
      stats->rpc_errors_total[server_stats::rpc_error_index(-32029)].load() ==
      0u);
  advance(100ms);
  send(R"({"jsonrpc":"2.0","method":"status"})");
  BOOST_TEST(routed->size() == 1u);
}

BOOST_AUTO_TEST_CASE(every_frame_costs_a_token) {
  open();
  send("garbage");
  send(R"({"jsonrpc":"2.0","method":"nope","id":1})");
  send(R"({"jsonrpc":"2.0","method":"status","id":2})");
  BOOST_TEST(out->frames.size() == 2u); // parse error, unknown method
  BOOST_TEST(routed->size() == 1u);
  BOOST_TEST(retry_after(ping(3)) == 100);
}

BOOST_AUTO_TEST_CASE(zero_rate_disables_the_limit) {
  conf->rate_limit_rps = 0;
  open();
  for (int i = 1; i <= 1000; ++i)
    BOOST_REQUIRE(ok(ping(i)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(connection_size_limits, fixture)

BOOST_AUTO_TEST_CASE(over_a_limit_is_invalid_params_and_not_routed) {
  conf->rate_limit_rps = 0;
  conf->limits.max_env_entries = 1;
  open();
  send(R"({"jsonrpc":"2.0","method":"execute","id":1,)"
       R"("params":{"argv":["true"],"env":{"A":"1"}}})");
  BOOST_TEST(out->frames.empty());
  BOOST_TEST(routed->size() == 1u);
  send(R"({"jsonrpc":"2.0","method":"execute","id":2,)"
       R"("params":{"argv":["true"],"env":{"A":"1","B":"2"}}})");
  BOOST_REQUIRE_EQUAL(out->frames.size(), 1u);
  auto o = boost::json::parse(out->frames.back()).as_object();
  BOOST_TEST(o.at("id").as_int64() == 2);
  BOOST_TEST(o.at("error").at("code").as_int64() == -32602);
  BOOST_TEST(o.at("error").at("message").as_string() ==
             "Invalid params: 'env' exceeds the limit of 1 entries (got 2)");
  BOOST_TEST(routed->size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// A session that hands the connection the batches the test gives it (the
/// connection takes frames from its session only) and records the written
/// bytes the connection returns to it.
caf::behavior
crediting_session(caf::event_based_actor* self,
                  std::shared_ptr<std::vector<std::uint64_t>> credits) {
  self->set_default_handler(caf::drop);
  return {
      [=](frames_atom, frame_batch& b, caf::actor& conn) {
        self->send(conn, frames_atom::value, std::move(b));
      },
      [=](written_atom, std::uint64_t n) { credits->push_back(n); },
  };
}

struct credit_fixture : fixture {
  std::shared_ptr<std::vector<std::uint64_t>> credits =
      std::make_shared<std::vector<std::uint64_t>>();
  caf::actor session;

  credit_fixture() {
    conf->rate_limit_rps = 0;
    session = sys->spawn(crediting_session, credits);
    auto sup = sys->spawn(mock_supervisor, session);
    conn =
        sys->spawn(connection_actor, std::uint64_t{1}, out, sup, conf, stats);
    run();
    // The connected notification is on the wire first: written, uncredited.
    BOOST_REQUIRE_EQUAL(out->frames.size(), 1u);
    socket_wrote(out->frames.front().size());
    BOOST_REQUIRE(credits->empty());
    out->frames.clear();
  }

  /// The session sends frames of these sizes, counted against its credit
  /// or not.
  void session_sends(std::vector<std::size_t> sizes, bool credited) {
    frame_batch b;
    b.credited = credited;
    for (auto n : sizes)
      b.add(std::string(n, 'x'));
    caf::anon_send(session, frames_atom::value, std::move(b), conn);
    run();
  }

  /// The socket reports `n` more frame bytes written.
  void socket_wrote(std::uint64_t n) {
    caf::anon_send(conn, written_atom::value, n);
    run();
  }

  std::uint64_t credited() const {
    std::uint64_t sum = 0;
    for (auto n : *credits)
      sum += n;
    return sum;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(connection_credit, credit_fixture)

BOOST_AUTO_TEST_CASE(written_bytes_return_only_the_credited_frames) {
  session_sends({100, 200}, true);
  ping(1);
  auto reply = out->frames.back().size();
  session_sends({150}, false); // a response: outside the window
  session_sends({400}, true);
  BOOST_REQUIRE_EQUAL(out->frames.size(), 5u);
  socket_wrote(300);
  BOOST_TEST(*credits == std::vector<std::uint64_t>{300});
  socket_wrote(reply + 150);
  BOOST_TEST(*credits == std::vector<std::uint64_t>{300});
  socket_wrote(400);
  BOOST_TEST(*credits == (std::vector<std::uint64_t>{300, 400}));
}

BOOST_AUTO_TEST_CASE(a_write_across_runs_credits_its_credited_part) {
  session_sends({100}, true);
  session_sends({50}, false);
  session_sends({70, 30}, true);
  // One report for all of it, then nothing more is owed.
  socket_wrote(250);
  BOOST_TEST(credited() == 200u);
  socket_wrote(1000);
  BOOST_TEST(credited() == 200u);
  // A run written in pieces is returned in full by the end.
  session_sends({500}, true);
  socket_wrote(200);
  socket_wrote(300);
  BOOST_TEST(credited() == 700u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(connection_reply_backlog, credit_fixture)

// Issue 25 item 4: a client that floods requests and reads no reply must not
// make the connection queue replies without bound.
BOOST_AUTO_TEST_CASE(frames_wait_while_replies_are_not_read) {
  auto request = [](int id) {
    return R"({"jsonrpc":"2.0","method":"ping","id":)" + std::to_string(id) +
           "}";
  };
  auto charge = inbound_charge(request(1).size());
  ping(0);
  auto reply = out->frames.back().size();
  socket_wrote(reply);
  out->frames.clear();
  out->consumed_bytes = 0;
  // Room for two unread replies: the third takes the backlog over.
  conf->max_reply_backlog_bytes = 2 * reply + reply / 2;
  for (int id = 1; id <= 10; ++id)
    send(request(id));
  BOOST_REQUIRE_EQUAL(out->frames.size(), 3u);
  // Only handled frames gave their read charge back.
  BOOST_TEST(out->consumed_bytes == 3 * charge);
  std::uint64_t queued = 0;
  for (auto& f : out->frames)
    queued += f.size();
  // The socket writes what was queued: the next ones are handled, in
  // order, until the backlog is over its bound again.
  socket_wrote(queued);
  BOOST_REQUIRE_EQUAL(out->frames.size(), 6u);
  for (int i = 0; i < 6; ++i)
    BOOST_TEST(boost::json::parse(out->frames[i]).at("id").as_int64() == i + 1);
  socket_wrote(1 << 20);
  socket_wrote(1 << 20);
  BOOST_TEST(out->frames.size() == 10u);
  BOOST_TEST(out->consumed_bytes == 10 * charge);
}

BOOST_AUTO_TEST_CASE(credited_output_is_no_reply_backlog) {
  conf->max_reply_backlog_bytes = 200;
  session_sends({5000}, true);
  BOOST_TEST(ok(ping(1)));
  BOOST_TEST(ok(ping(2)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(connection_inbound, fixture)

BOOST_AUTO_TEST_CASE(every_handled_frame_gives_its_charge_back) {
  conf->rate_limit_rps = 0;
  open();
  std::string big = R"({"jsonrpc":"2.0","method":"status","id":1,)"
                    R"("params":{"pad":")" +
                    std::string(5000, 'x') + "\"}}";
  send(big);
  send("x");
  std::string pong = R"({"jsonrpc":"2.0","method":"pong"})";
  send(pong);
  BOOST_TEST(out->consumed_bytes == inbound_charge(big.size()) +
                                        inbound_charge(1) +
                                        inbound_charge(pong.size()));
  BOOST_TEST(inbound_charge(1) == 256u);
  BOOST_TEST(inbound_charge(big.size()) == big.size());
}

// Issue 25 item 5: over the rate limit a frame is refused from its envelope,
// with its id, whatever its body holds.
BOOST_AUTO_TEST_CASE(over_the_limit_refused_from_the_envelope) {
  open_and_spend_burst();
  std::string nested = R"({"jsonrpc":"2.0","params":{"x":[)";
  for (int i = 0; i < 20000; ++i)
    nested += i == 0 ? "[[1]]" : ",[[1]]";
  nested += R"(]},"method":"status","id":"big"})";
  send(nested);
  auto o = boost::json::parse(out->frames.back()).as_object();
  BOOST_TEST(o.at("id").as_string() == "big");
  BOOST_TEST(retry_after(o) == 100);
  BOOST_TEST(routed->empty());
  // Flow control stays exempt over the limit; a malformed ack does not.
  send(R"({"jsonrpc":"2.0","method":"ack","params":{"seq":1}})");
  BOOST_TEST(routed->size() == 1u);
  send(R"({"jsonrpc":"2.0","method":"ack","params":{"seq":-1},"id":5})");
  BOOST_TEST(retry_after(boost::json::parse(out->frames.back()).as_object()) ==
             100);
  BOOST_TEST(routed->size() == 1u);
}

// Issue 25 item 13: the JSON ping's clock is the socket's. A timer of the
// actor's own kept a closed connection's actor alive until it fired.
BOOST_AUTO_TEST_CASE(no_timer_keeps_the_actor_alive) {
  conf->json_ping_interval_ms = 30000;
  open();
  BOOST_TEST(!sched->has_pending_timeout());
  caf::anon_send(conn, timer_atom::value, timer_kind::ping, std::uint64_t{0});
  run();
  BOOST_REQUIRE_EQUAL(out->frames.size(), 1u);
  BOOST_TEST(boost::json::parse(out->frames.back()).at("method").as_string() ==
             "ping");
  caf::weak_actor_ptr weak = caf::actor_cast<caf::weak_actor_ptr>(conn);
  caf::anon_send(conn, peer_gone_atom::value, true, std::uint16_t{1000});
  conn = nullptr;
  run();
  BOOST_TEST(!caf::actor_cast<caf::strong_actor_ptr>(weak));
}

BOOST_AUTO_TEST_SUITE_END()

// Resume and refusal, across the real supervisor and sessions: what a
// client sees on its socket.

namespace {

/// A connection's socket side and what it was told on opening.
struct client {
  std::shared_ptr<mock_outbox> out = std::make_shared<mock_outbox>();
  caf::actor conn;
  std::string session_id;
  std::string token;

  std::vector<boost::json::object> parsed(std::size_t from = 0) const {
    std::vector<boost::json::object> result;
    for (auto i = from; i < out->frames.size(); ++i)
      result.push_back(boost::json::parse(out->frames[i]).as_object());
    return result;
  }
};

struct session_fixture : actor_fixture {
  caf::actor sup;
  std::uint64_t next_id = 1;
  /// Every connection made: sessions and connections hold each other, and
  /// the supervisor holds the sessions, so the end kills them all (LSan
  /// reports the cycle otherwise).
  std::vector<caf::actor> conns;

  session_fixture() {
    conf->json_ping_interval_ms = 0;
    conf->rate_limit_rps = 0;
    conf->max_sessions = 2;
    conf->session_linger_ms = 60000;
    sup = sys->spawn(supervisor_actor, spawner(), conf, stats);
  }

  ~session_fixture() {
    for (auto& c : conns)
      caf::anon_send_exit(c, caf::exit_reason::kill);
    caf::anon_send_exit(sup, caf::exit_reason::kill);
    run();
  }

  /// A new connection; `connected` when the supervisor opened a session.
  client connect() {
    client c;
    c.conn = sys->spawn(connection_actor, next_id++, c.out, sup, conf, stats);
    conns.push_back(c.conn);
    run();
    if (c.out->frames.size() == 1u) {
      auto first = c.parsed().front();
      if (first.contains("method") &&
          first.at("method").as_string() == "connected") {
        auto& p = first.at("params").as_object();
        c.session_id = std::string{p.at("session_id").as_string()};
        c.token = std::string{p.at("resume_token").as_string()};
      }
    }
    return c;
  }

  void send(const client& c, const std::string& json) {
    caf::anon_send(c.conn, frame_in_atom::value, json);
    run();
  }

  std::string resume_request(int id, const std::string& session_id,
                             const std::string& token, std::uint64_t last_seq) {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
           R"(,"method":"resume","params":{"session_id":")" + session_id +
           R"(","resume_token":")" + token + R"(","last_seq":)" +
           std::to_string(last_seq) + "}}";
  }

  /// The child of process `i` writes `data` to stdout.
  void child_writes(std::string data, std::size_t i = 0) {
    caf::anon_send(child(i).owner, read_atom::value, protocol::stream_kind::out,
                   std::move(data), false);
    run();
  }

  /// The socket under `c` went away without a close handshake.
  void connection_lost(const client& c) {
    caf::anon_send(c.conn, peer_gone_atom::value, false, std::uint16_t{1006});
    run();
  }

  /// (seq, data) of the output frames among `frames`.
  static std::vector<std::pair<std::int64_t, std::string>>
  outputs(const std::vector<boost::json::object>& frames) {
    std::vector<std::pair<std::int64_t, std::string>> result;
    for (auto& f : frames)
      if (f.contains("method") &&
          f.at("method").as_string() == "process.output")
        result.emplace_back(f.at("params").at("seq").as_int64(),
                            std::string{f.at("params").at("data").as_string()});
    return result;
  }

  static std::int64_t error_code_of(const boost::json::object& f) {
    BOOST_REQUIRE(f.contains("error"));
    return f.at("error").at("code").as_int64();
  }
};

using seq_data = std::vector<std::pair<std::int64_t, std::string>>;

} // namespace

BOOST_TEST_DONT_PRINT_LOG_VALUE(seq_data)

BOOST_FIXTURE_TEST_SUITE(connection_resume, session_fixture)

BOOST_AUTO_TEST_CASE(resume_replays_what_follows_last_seq_in_order_once) {
  auto a = connect();
  BOOST_REQUIRE(!a.session_id.empty());
  send(a, R"({"jsonrpc":"2.0","id":1,"method":"execute",)"
          R"("params":{"command":"x"}})");
  child_writes("a\nb\nc\n"); // seq 2, 3, 4 (process.started is 1)
  BOOST_TEST(outputs(a.parsed()) ==
             (seq_data{{2, "a\n"}, {3, "b\n"}, {4, "c\n"}}));
  connection_lost(a);
  BOOST_TEST(stats->detached_sessions.load() == 1);
  child_writes("d\n"); // while detached: seq 5 once sent
  auto frames_of_a = a.out->frames.size();
  // The client has everything through seq 2 (the socket lost 3 and 4).
  auto b = connect();
  BOOST_REQUIRE(!b.session_id.empty());
  BOOST_TEST(b.session_id != a.session_id);
  send(b, resume_request(7, a.session_id, a.token, 2));
  auto got = b.parsed(1);
  BOOST_REQUIRE_EQUAL(got.size(), 4u);
  BOOST_TEST(got[0].at("id").as_int64() == 7);
  BOOST_TEST(got[0].at("result").at("status").as_string() == "resumed");
  BOOST_TEST(got[0].at("result").at("session_id").as_string() == a.session_id);
  // The last seq sent before: "d\n" gets its seq only as it goes out.
  BOOST_TEST(got[0].at("result").at("last_seq").as_int64() == 4);
  BOOST_TEST(outputs(got) == (seq_data{{3, "b\n"}, {4, "c\n"}, {5, "d\n"}}));
  BOOST_TEST(stats->resumes_total.load() == 1u);
  BOOST_TEST(stats->detached_sessions.load() == 0);
  // From now on the resumed session's output reaches b, once, and the
  // requests of b reach the resumed session.
  child_writes("e\n");
  send(b, R"({"jsonrpc":"2.0","id":8,"method":"status"})");
  got = b.parsed(5);
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  BOOST_TEST(outputs(got) == (seq_data{{6, "e\n"}}));
  BOOST_TEST(got[1].at("id").as_int64() == 8);
  BOOST_TEST(got[1].at("result").at("last_seq").as_int64() == 6);
  BOOST_TEST(got[1].at("result").at("acked_seq").as_int64() == 2);
  BOOST_TEST(a.out->frames.size() == frames_of_a);
  // The session made for b was discarded: its place is free again.
  auto c = connect();
  BOOST_TEST(!c.session_id.empty());
  BOOST_TEST(c.out->closes.empty());
}

BOOST_AUTO_TEST_CASE(resume_of_an_attached_session_takes_it_over) {
  auto a = connect();
  auto b = connect();
  send(b, resume_request(3, a.session_id, a.token, 0));
  BOOST_REQUIRE_EQUAL(a.out->closes.size(), 1u);
  BOOST_TEST((a.out->closes[0] == close_reason::taken_over));
  auto got = b.parsed(1);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].at("result").at("status").as_string() == "resumed");
  BOOST_TEST(b.out->closes.empty());
}

BOOST_AUTO_TEST_CASE(requests_sent_behind_a_resume_wait_for_it) {
  auto a = connect();
  connection_lost(a);
  auto b = connect();
  // Both frames arrive before the supervisor answers: the status must be
  // answered by the resumed session, after the resume.
  caf::anon_send(b.conn, frame_in_atom::value,
                 resume_request(1, a.session_id, a.token, 0));
  caf::anon_send(b.conn, frame_in_atom::value,
                 std::string{R"({"jsonrpc":"2.0","id":2,"method":"status"})"});
  run();
  auto got = b.parsed(1);
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  BOOST_TEST(got[0].at("id").as_int64() == 1);
  BOOST_TEST(got[0].at("result").at("status").as_string() == "resumed");
  BOOST_TEST(got[1].at("id").as_int64() == 2);
  BOOST_TEST(got[1].at("result").at("session_id").as_string() == a.session_id);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(connection_refusal, session_fixture)

BOOST_AUTO_TEST_CASE(resume_with_a_wrong_token_is_refused_and_changes_nothing) {
  auto a = connect();
  connection_lost(a);
  auto b = connect();
  auto wrong = a.token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  send(b, resume_request(4, a.session_id, wrong, 0));
  auto got = b.parsed(1);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].at("id").as_int64() == 4);
  BOOST_TEST(error_code_of(got[0]) == -32010);
  BOOST_TEST(got[0].at("error").at("message").as_string() ==
             "Resume refused: unknown session, wrong token or expired session");
  BOOST_TEST(
      stats->rpc_errors_total[server_stats::rpc_error_index(-32010)].load() ==
      1u);
  // The connection stays open on its own session; the other one stays
  // detached, for its rightful owner.
  BOOST_TEST(b.out->closes.empty());
  send(b, R"({"jsonrpc":"2.0","id":5,"method":"status"})");
  got = b.parsed(2);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].at("result").at("session_id").as_string() == b.session_id);
  BOOST_TEST(stats->detached_sessions.load() == 1);
  BOOST_TEST(stats->resumes_total.load() == 0u);
  send(b, resume_request(6, a.session_id, a.token, 0));
  BOOST_TEST(b.parsed().back().at("result").at("status").as_string() ==
             "resumed");
}

BOOST_AUTO_TEST_CASE(resume_of_an_unknown_or_expired_session_is_refused) {
  auto a = connect();
  connection_lost(a);
  advance(std::chrono::milliseconds{conf->session_linger_ms});
  BOOST_TEST(stats->detached_sessions.load() == 0);
  auto b = connect();
  send(b, resume_request(1, a.session_id, a.token, 0)); // expired
  send(b, resume_request(2, "no-such-session", a.token, 0));
  auto got = b.parsed(1);
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    BOOST_TEST(got[i].at("id").as_int64() == i + 1);
    BOOST_TEST(error_code_of(got[i]) == -32010);
  }
  BOOST_TEST(b.out->closes.empty());
  BOOST_TEST(stats->resumes_total.load() == 0u);
}

BOOST_AUTO_TEST_CASE(over_the_session_limit_an_error_then_a_close) {
  auto a = connect();
  auto b = connect();
  BOOST_REQUIRE(!a.session_id.empty());
  BOOST_REQUIRE(!b.session_id.empty());
  auto c = connect();
  BOOST_TEST(c.session_id.empty());
  auto got = c.parsed();
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(!got[0].contains("id"));
  BOOST_TEST(!got[0].contains("method"));
  BOOST_TEST(error_code_of(got[0]) == -32003);
  BOOST_TEST(got[0].at("error").at("message").as_string() ==
             "Session limit exceeded");
  BOOST_REQUIRE_EQUAL(c.out->closes.size(), 1u);
  BOOST_TEST((c.out->closes[0] == close_reason::session_limit));
  BOOST_TEST(
      stats->rpc_errors_total[server_stats::rpc_error_index(-32003)].load() ==
      1u);
  // Closing: nothing more goes out, whatever the client sends.
  send(c, R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  send(c, R"({"jsonrpc":"2.0","id":2,"method":"status"})");
  BOOST_TEST(c.out->frames.size() == 1u);
  BOOST_TEST(c.out->closes.size() == 1u);
  // The admitted ones are untouched.
  BOOST_TEST(a.out->closes.empty());
  BOOST_TEST(b.out->closes.empty());
}

BOOST_AUTO_TEST_SUITE_END()
