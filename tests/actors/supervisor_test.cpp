#define BOOST_TEST_MODULE actors_supervisor
#include <boost/test/unit_test.hpp>

#include <regex>

#include "actors/supervisor.hpp"
#include "tests/actors/fixture.hpp"

using namespace actorexec;
using namespace actorexec::test;

namespace {

struct opened {
  caf::actor session;
  std::string id;
  std::string token;
  bool refused = false;
};

struct fixture : actor_fixture {
  caf::actor sup;

  fixture() {
    conf->max_sessions = 2;
    sup = sys->spawn(supervisor_actor, spawner(), conf, stats);
  }

  // Probes get their target as a spawn argument: see process_test.cpp.
  opened open() {
    opened result;
    auto conn = sys->spawn(mock_conn, std::make_shared<conn_log>());
    auto probe = sys->spawn(
        [&](caf::event_based_actor* self, caf::actor target) {
          self->request(target, caf::infinite, open_atom::value, conn)
              .then(
                  [&](caf::actor& s, std::string& id, std::string& token) {
                    result = opened{s, id, token, false};
                  },
                  [&](caf::error&) { result.refused = true; });
        },
        sup);
    run();
    return result;
  }

  /// The session the supervisor finds for (id, token), or null.
  caf::actor find(const std::string& id, const std::string& token) {
    caf::actor found;
    auto probe = sys->spawn(
        [&](caf::event_based_actor* self, caf::actor target) {
          self->request(target, caf::infinite, resume_atom::value, id, token)
              .then([&](caf::actor& s) { found = s; }, [&](caf::error&) {});
        },
        sup);
    run();
    return found;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_supervisor, fixture)

BOOST_AUTO_TEST_CASE(sessions_get_uuid_v4_ids_and_256_bit_tokens) {
  auto s = open();
  BOOST_REQUIRE(s.session);
  std::regex uuid{"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  "[0-9a-f]{12}"};
  BOOST_TEST(std::regex_match(s.id, uuid));
  // docs/protocol.md: 64 hex digits, 256 random bits.
  BOOST_TEST(std::regex_match(s.token, std::regex{"[0-9a-f]{64}"}));
  BOOST_TEST(open().token != s.token);
}

BOOST_AUTO_TEST_CASE(admission_stops_at_max_sessions) {
  BOOST_TEST(!open().refused);
  BOOST_TEST(!open().refused);
  BOOST_TEST(open().refused);
}

BOOST_AUTO_TEST_CASE(an_ended_session_frees_its_slot_and_its_entry) {
  auto a = open();
  open();
  caf::anon_send(a.session, end_atom::value, std::uint64_t{0});
  run();
  BOOST_TEST(!find(a.id, a.token));
  BOOST_TEST(!open().refused);
}

BOOST_AUTO_TEST_CASE(resume_lookup_needs_the_right_token) {
  auto a = open();
  BOOST_TEST((find(a.id, a.token) == a.session));
  BOOST_TEST(!find(a.id, a.token + "0"));
  BOOST_TEST(!find(a.id, std::string(a.token.size(), '0')));
  BOOST_TEST(!find("no-such-session", a.token));
}

BOOST_AUTO_TEST_CASE(draining_refuses_new_sessions) {
  caf::anon_send(sup, shutdown_atom::value, std::uint64_t{1000});
  run();
  BOOST_TEST(open().refused);
  BOOST_TEST(stats->draining.load());
}

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_whole_strings) {
  BOOST_TEST(constant_time_equal("abc", "abc"));
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "abcd"));
}

BOOST_AUTO_TEST_SUITE_END()
