#define BOOST_TEST_MODULE protocol_peek
#include <boost/test/unit_test.hpp>

#include "protocol/peek.hpp"

#include <string>

#include "protocol/messages.hpp"

using namespace actorexec::protocol;

namespace {

/// A top-level array of `n` small arrays: cheap to write, costly to parse
/// into a document.
std::string nested_arrays(std::size_t n) {
  std::string s = R"({"jsonrpc":"2.0","params":{"x":[)";
  for (std::size_t i = 0; i < n; ++i)
    s += i == 0 ? "[1]" : ",[1]";
  return s + R"(]},"id":77,"method":"status"})";
}

} // namespace

BOOST_AUTO_TEST_CASE(reads_id_and_method_of_an_object) {
  auto e = peek(R"({"jsonrpc":"2.0","id":"a\"b","method":"exe\u0063ute"})");
  BOOST_TEST(e.valid);
  BOOST_TEST(e.is_object);
  BOOST_REQUIRE(e.id);
  BOOST_TEST(e.id->as_string() == "a\"b");
  BOOST_TEST(e.method == "execute");
}

BOOST_AUTO_TEST_CASE(integer_ids_signed_and_unsigned) {
  auto a = peek(R"({"id":-5,"method":"ping"})");
  BOOST_REQUIRE(a.id);
  BOOST_TEST(a.id->as_int64() == -5);
  auto b = peek(R"({"id":18446744073709551615,"method":"ping"})");
  BOOST_REQUIRE(b.id);
  BOOST_TEST(b.id->as_uint64() == 18446744073709551615ull);
}

BOOST_AUTO_TEST_CASE(ids_the_decoder_refuses_are_absent) {
  for (auto text :
       {R"({"id":1.5,"method":"ping"})", R"({"id":null,"method":"ping"})",
        R"({"id":[1],"method":"ping"})", R"({"id":{"x":1},"method":"ping"})",
        R"({"id":true,"method":"ping"})"}) {
    auto e = peek(text);
    BOOST_TEST(e.valid);
    BOOST_TEST(!e.id, text);
    BOOST_TEST(e.method == "ping");
  }
}

BOOST_AUTO_TEST_CASE(nested_members_named_id_or_method_do_not_count) {
  auto e = peek(
      R"({"params":{"id":9,"method":"x","a":[{"id":3}]},"method":"status"})");
  BOOST_TEST(e.valid);
  BOOST_TEST(!e.id);
  BOOST_TEST(e.method == "status");
  // A value after a nested one is read again at the top level.
  auto f = peek(R"({"params":{"method":"x"},"id":4})");
  BOOST_REQUIRE(f.id);
  BOOST_TEST(f.id->as_int64() == 4);
  BOOST_TEST(f.method.empty());
}

BOOST_AUTO_TEST_CASE(non_objects_and_malformed_text) {
  auto arr = peek(R"([{"id":1,"method":"ping"}])");
  BOOST_TEST(arr.valid);
  BOOST_TEST(!arr.is_object);
  BOOST_TEST(!arr.id);
  BOOST_TEST(peek("42").valid);
  BOOST_TEST(!peek("42").is_object);
  for (auto text : {"", "{", R"({"id":1,)", R"({"id":1} x)", "nul",
                    R"({"method":"ping")"}) {
    BOOST_TEST(!peek(text).valid, text);
  }
}

BOOST_AUTO_TEST_CASE(strings_in_pieces_are_joined) {
  // Escapes make the parser hand a string over in several parts.
  auto e = peek(R"({"method":"st\u0061t\u0075s","id":"\u00e9t\u00e9"})");
  BOOST_TEST(e.method == "status");
  BOOST_REQUIRE(e.id);
  BOOST_TEST(e.id->as_string() == "\xc3\xa9t\xc3\xa9");
}

BOOST_AUTO_TEST_CASE(agrees_with_the_decoder_on_a_large_frame) {
  auto text = nested_arrays(100000);
  auto e = peek(text);
  BOOST_TEST(e.valid);
  BOOST_REQUIRE(e.id);
  auto d = decode(text);
  BOOST_REQUIRE(d.id);
  BOOST_TEST(*e.id == *d.id);
  BOOST_TEST(e.method == "status");
}
