#define BOOST_TEST_MODULE actors_connection
#include <boost/test/unit_test.hpp>

#include "actors/connection.hpp"
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
