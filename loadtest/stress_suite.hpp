#pragma once

// The stress-suite files of the system actorexec replaces, read as
// scenarios (see README.md, "Stress suites of the replaced system").

#include <boost/json/object.hpp>

#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// `{"timeout": S, "tests": [...]}`: one phase, every test once, at once.
scenario parse_flat_suite(const boost::json::object& obj);

/// `{"categories": {NAME: {"timeout": S, "tests": [...]}}}`: a phase per
/// category.
scenario parse_categorized_suite(const boost::json::object& obj);

} // namespace actorexec::loadtest
