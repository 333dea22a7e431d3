#define BOOST_TEST_MODULE loadtest_upgrade_auth
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "loadtest/scenario.hpp"
#include "loadtest/upgrade_auth.hpp"

using namespace actorexec::loadtest;

BOOST_AUTO_TEST_SUITE(refused_upgrade)

BOOST_AUTO_TEST_CASE(says_what_to_check) {
  // The bodies actorexec sends with each refusal.
  BOOST_TEST(describe_refused_upgrade(401, "Unauthorized",
                                      R"({"error":"unauthorized"})") ==
             "HTTP 401 Unauthorized (check --token-file)");
  BOOST_TEST(describe_refused_upgrade(403, "Forbidden",
                                      R"({"error":"origin not allowed"})") ==
             "HTTP 403 Forbidden (Origin)");
  BOOST_TEST(describe_refused_upgrade(503, "Service Unavailable",
                                      R"({"error":"too many connections"})") ==
             "HTTP 503 Service Unavailable (too many connections)");
  BOOST_TEST(describe_refused_upgrade(503, "Service Unavailable",
                                      R"({"error":"draining"})") ==
             "HTTP 503 Service Unavailable (draining)");
  BOOST_TEST(
      describe_refused_upgrade(404, "Not Found", R"({"error":"not found"})") ==
      "HTTP 404 Not Found (check the URL's path)");
}

BOOST_AUTO_TEST_CASE(other_servers_and_bodies) {
  BOOST_TEST(describe_refused_upgrade(503, "Busy", "") ==
             "HTTP 503 Service Unavailable (connection limit or draining)");
  BOOST_TEST(describe_refused_upgrade(426, "", "upgrade, please") ==
             "HTTP 426 Upgrade Required");
  // No phrase of ours: the server's; a long or odd error is cut and cleaned.
  BOOST_TEST(describe_refused_upgrade(418, "I'm a teapot", "{}") ==
             "HTTP 418 I'm a teapot");
  BOOST_TEST(describe_refused_upgrade(500, "", R"({"error":"a\nb"})") ==
             "HTTP 500 Internal Server Error (a?b)");
  auto long_error = std::string(300, 'x');
  BOOST_TEST(describe_refused_upgrade(502, "",
                                      R"({"error":")" + long_error + R"("})") ==
             "HTTP 502 Bad Gateway (" + std::string(120, 'x') + ")");
  BOOST_TEST(describe_refused_upgrade(599, "", "[1]") == "HTTP 599");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(token_file)

std::string write_file(const std::string& text) {
  char name[] = "/tmp/loadtest_token_XXXXXX";
  int fd = mkstemp(name);
  BOOST_REQUIRE(fd >= 0);
  close(fd);
  std::ofstream{name, std::ios::binary} << text;
  return name;
}

std::string error_of(const std::string& path) {
  try {
    read_token_file(path, "--token-file");
  } catch (const scenario_error& e) {
    return e.what();
  }
  return "no error";
}

BOOST_AUTO_TEST_CASE(reads_it_as_the_server_does) {
  auto path = write_file("s3cret-Token_1\r\n \t\n");
  BOOST_TEST(read_token_file(path, "--token-file") == "s3cret-Token_1");
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(refuses_what_cannot_go_into_a_header) {
  auto empty = write_file(" \n");
  BOOST_TEST(error_of(empty) == "--token-file: " + empty + " is empty");
  auto spaced = write_file("two words\n");
  BOOST_TEST(error_of(spaced) ==
             "--token-file: the token must be printable ASCII without spaces");
  auto header = write_file("a\r\nX-Evil: 1\n");
  BOOST_TEST(error_of(header) ==
             "--token-file: the token must be printable ASCII without spaces");
  BOOST_TEST(error_of("/nonexistent/token") ==
             "--token-file: cannot read /nonexistent/token");
  for (const auto& p : {empty, spaced, header})
    std::remove(p.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
