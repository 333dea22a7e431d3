#define BOOST_TEST_MODULE protocol_base64
#include <boost/test/unit_test.hpp>

#include "protocol/base64.hpp"

#include <random>
#include <string>

using namespace actorexec::protocol;
using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(protocol_base64)

BOOST_AUTO_TEST_CASE(rfc4648_test_vectors) {
  // RFC 4648 section 10.
  BOOST_TEST(base64_encode("") == "");
  BOOST_TEST(base64_encode("f") == "Zg==");
  BOOST_TEST(base64_encode("fo") == "Zm8=");
  BOOST_TEST(base64_encode("foo") == "Zm9v");
  BOOST_TEST(base64_encode("foob") == "Zm9vYg==");
  BOOST_TEST(base64_encode("fooba") == "Zm9vYmE=");
  BOOST_TEST(base64_encode("foobar") == "Zm9vYmFy");
  BOOST_TEST(base64_decode("").value() == "");
  BOOST_TEST(base64_decode("Zg==").value() == "f");
  BOOST_TEST(base64_decode("Zm8=").value() == "fo");
  BOOST_TEST(base64_decode("Zm9v").value() == "foo");
  BOOST_TEST(base64_decode("Zm9vYg==").value() == "foob");
  BOOST_TEST(base64_decode("Zm9vYmE=").value() == "fooba");
  BOOST_TEST(base64_decode("Zm9vYmFy").value() == "foobar");
}

BOOST_AUTO_TEST_CASE(binary_bytes) {
  auto bytes = "\x00\xFF\xFE\x80\x7F"s;
  BOOST_TEST(base64_encode(bytes) == "AP/+gH8=");
  BOOST_TEST(base64_decode("AP/+gH8=").value() == bytes);
}

BOOST_AUTO_TEST_CASE(rejects_invalid_text) {
  BOOST_TEST(!base64_decode("Zg"));   // missing padding
  BOOST_TEST(!base64_decode("Zg="));  // length not a multiple of 4
  BOOST_TEST(!base64_decode("Z===")); // too much padding
  BOOST_TEST(!base64_decode("===="));
  BOOST_TEST(!base64_decode("Zg==Zg==")); // padding in the middle
  BOOST_TEST(!base64_decode("Z=g="));
  BOOST_TEST(!base64_decode("Zm9v YmFy")); // whitespace
  BOOST_TEST(!base64_decode("Zm9v\nYmFy"));
  BOOST_TEST(!base64_decode("Zm9-")); // base64url alphabet
  BOOST_TEST(!base64_decode("Zm9_"));
  BOOST_TEST(!base64_decode("\xC3\xA9\xC3\xA9"));
  BOOST_TEST(!base64_decode("Zm9v\0\0\0\0"s));
}

BOOST_AUTO_TEST_CASE(tolerates_nonzero_trailing_bits) {
  // "Zh==" has non-zero bits past the byte; common decoders accept it.
  BOOST_TEST(base64_decode("Zh==").value() == "f");
}

BOOST_AUTO_TEST_CASE(round_trips_random_bytes) {
  std::mt19937 rng{42};
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t len = 0; len < 300; ++len) {
    std::string s;
    for (std::size_t i = 0; i < len; ++i)
      s.push_back(static_cast<char>(byte(rng)));
    auto text = base64_encode(s);
    BOOST_TEST(text.size() == (len + 2) / 3 * 4);
    auto back = base64_decode(text);
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(*back == s);
  }
}

BOOST_AUTO_TEST_SUITE_END()
