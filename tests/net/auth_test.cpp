#define BOOST_TEST_MODULE net_auth
#include <boost/test/unit_test.hpp>

#include "net/auth.hpp"

#include <string>

namespace http = boost::beast::http;
using namespace actorexec::net;

namespace {

const std::string token = "s3cret-Token_1.x";

http_request upgrade_request(std::string target = "/ws/mcp") {
  http_request req{http::verb::get, target, 11};
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "Upgrade");
  return req;
}

access_policy with_token() {
  access_policy p;
  p.token = token;
  return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_auth)

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_exactly) {
  BOOST_TEST(constant_time_equal("abc", "abc"));
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "ab"));
  BOOST_TEST(!constant_time_equal("abc", "abcd"));
  BOOST_TEST(!constant_time_equal("abc", ""));
  // Repeating a prefix must not pass for the whole (the loop wraps).
  BOOST_TEST(!constant_time_equal("abab", "ab"));
  // No token configured never matches, not even an empty offer.
  BOOST_TEST(!constant_time_equal("", ""));
}

BOOST_AUTO_TEST_CASE(query_param_decodes_and_finds_by_name) {
  BOOST_TEST(!query_param("/ws/mcp", "token").has_value());
  BOOST_TEST(query_param("/ws/mcp?token=abc", "token").value() == "abc");
  BOOST_TEST(query_param("/ws?a=1&token=x%2By%3d&b", "token").value() ==
             "x+y=");
  BOOST_TEST(query_param("/ws?a=1&b&token", "token").value() == "");
  BOOST_TEST(!query_param("/ws?tokens=abc", "token").has_value());
  BOOST_TEST(query_param("/ws?token=a+b%zz", "token").value() == "a+b%zz");
  BOOST_TEST(query_param("/ws?token=abc#frag", "token").value() == "abc");
}

BOOST_AUTO_TEST_CASE(no_policy_lets_everyone_in) {
  auto r = check_upgrade(access_policy{}, upgrade_request());
  BOOST_TEST((r.verdict == access_verdict::allow));
  BOOST_TEST(r.subprotocol.empty());
}

BOOST_AUTO_TEST_CASE(token_missing_or_wrong_is_unauthorized) {
  auto p = with_token();
  BOOST_TEST((check_upgrade(p, upgrade_request()).verdict ==
              access_verdict::unauthorized));
  auto req = upgrade_request("/ws/mcp?token=wrong");
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::unauthorized));
  req = upgrade_request();
  req.set(http::field::authorization, "Bearer " + token + "x");
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::unauthorized));
  req.set(http::field::authorization, "Basic " + token);
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::unauthorized));
  req = upgrade_request();
  req.set(http::field::sec_websocket_protocol, "bearer.nope, " + token);
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::unauthorized));
}

BOOST_AUTO_TEST_CASE(each_token_form_is_accepted) {
  auto p = with_token();
  auto req = upgrade_request();
  req.set(http::field::authorization, "Bearer " + token);
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::allow));
  req.set(http::field::authorization, "bearer   " + token + " ");
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::allow));
  req = upgrade_request("/ws/mcp?x=1&token=" + token);
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::allow));
  req = upgrade_request();
  req.set(http::field::sec_websocket_protocol, "mcp, bearer." + token);
  auto r = check_upgrade(p, req);
  BOOST_TEST((r.verdict == access_verdict::allow));
  BOOST_TEST(r.subprotocol == "bearer." + token);
}

BOOST_AUTO_TEST_CASE(one_valid_form_is_enough) {
  auto p = with_token();
  auto req = upgrade_request("/ws/mcp?token=" + token);
  req.set(http::field::authorization, "Bearer wrong");
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::allow));
}

BOOST_AUTO_TEST_CASE(origin_allow_list_is_exact) {
  access_policy p;
  p.allowed_origins = {"https://good.example", "http://x.example:8080"};
  auto req = upgrade_request();
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::allow));
  req.set(http::field::origin, "https://good.example");
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::allow));
  req.set(http::field::origin, "http://x.example:8080");
  BOOST_TEST((check_upgrade(p, req).verdict == access_verdict::allow));
  for (auto bad : {"https://evil.example", "https://good.example.evil",
                   "http://good.example", "https://GOOD.example", "null"}) {
    req.set(http::field::origin, bad);
    BOOST_TEST(
        (check_upgrade(p, req).verdict == access_verdict::forbidden_origin),
        bad);
  }
}

BOOST_AUTO_TEST_CASE(origin_is_checked_before_the_token) {
  auto p = with_token();
  p.allowed_origins = {"https://good.example"};
  auto req = upgrade_request("/ws?token=" + token);
  req.set(http::field::origin, "https://evil.example");
  BOOST_TEST(
      (check_upgrade(p, req).verdict == access_verdict::forbidden_origin));
}

// Only the first Origin was read: a foreign one after a listed one passed.
BOOST_AUTO_TEST_CASE(duplicate_origin_headers_are_refused) {
  auto listed = with_token();
  listed.allowed_origins = {"https://good.example"};
  auto open = with_token(); // no allow-list: any single origin passes
  for (auto second : {"https://evil.example", "https://good.example"}) {
    auto req = upgrade_request("/ws?token=" + token);
    req.insert(http::field::origin, "https://good.example");
    req.insert(http::field::origin, second);
    for (auto* p : {&listed, &open}) {
      BOOST_TEST(!origin_allowed(*p, req), second);
      BOOST_TEST(
          (check_upgrade(*p, req).verdict == access_verdict::forbidden_origin),
          second);
    }
  }
  auto one = upgrade_request("/ws?token=" + token);
  one.insert(http::field::origin, "https://good.example");
  BOOST_TEST((check_upgrade(listed, one).verdict == access_verdict::allow));
  BOOST_TEST((check_upgrade(open, one).verdict == access_verdict::allow));
}

BOOST_AUTO_TEST_CASE(metrics_and_health_need_the_token_unless_exempt) {
  auto p = with_token();
  http_request req{http::verb::get, "/metrics", 11};
  BOOST_TEST(!may_serve(p, "/metrics", req));
  BOOST_TEST(!may_serve(p, "/health", req));
  BOOST_TEST(may_serve(p, "/healthz", req));
  BOOST_TEST(may_serve(p, "/readyz", req));
  req.set(http::field::authorization, "Bearer " + token);
  BOOST_TEST(may_serve(p, "/metrics", req));
  http_request q{http::verb::get, "/health?token=" + token, 11};
  BOOST_TEST(may_serve(p, "/health", q));
  p.metrics_no_auth = true;
  BOOST_TEST(may_serve(p, "/metrics", http_request{}));
  BOOST_TEST(may_serve(access_policy{}, "/metrics", http_request{}));
}

BOOST_AUTO_TEST_CASE(token_forms_never_contain_the_token) {
  auto req = upgrade_request("/ws?token=" + token);
  req.set(http::field::authorization, "Bearer " + token);
  req.set(http::field::sec_websocket_protocol, "bearer." + token);
  auto forms = token_forms(req);
  BOOST_TEST(forms == "authorization,query,subprotocol");
  BOOST_TEST(forms.find(token) == std::string::npos);
  BOOST_TEST(token_forms(upgrade_request()) == "none");
}

BOOST_AUTO_TEST_SUITE_END()
