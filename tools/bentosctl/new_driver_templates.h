// The files `bentosctl new-driver` writes, as text with placeholders.
//
// Kept as C++ raw strings (new_driver_templates*.cpp) rather than files
// embedded by a build step: bentosctl stays one self-contained binary with
// no generator in the build, and tests/sdk/check-new-driver.sh builds and
// tests every template, so a template that stops compiling or passing fails
// a test.
// Placeholders: @NAME@ (the driver and device name), @CPP_PLUGINS@ and
// @C_PLUGINS@ (the Makefile's lists), @SOURCE@ (NAME.cpp or NAME.c),
// @PATTERN@ (p1..p4, raw).
//
// Plain data; no thread affinity.
#pragma once

#include <span>
#include <string_view>

namespace bentos::ctl::templates {

struct DriverTemplate {
  std::string_view pattern;   // "p2"
  std::string_view language;  // "cpp" or "c"
  std::string_view source;    // the driver
  // The generated test's doctest TEST_CASEs (kTestFile's @TEST_CASES@):
  // the driver, loaded from ./NAME.so by bentos/testing.hpp, driven op by
  // op through its pattern; the checks the author extends as it grows.
  std::string_view test_cases;
};

// The drivers: new_driver_templates_cpp.cpp and new_driver_templates_c.cpp.
std::span<const DriverTemplate> cpp_templates();
std::span<const DriverTemplate> c_templates();

// Null when that pattern has no template in that language.
const DriverTemplate* find_template(std::string_view pattern, std::string_view language);

extern const std::string_view kMakefile;
extern const std::string_view kManifest;
extern const std::string_view kTestFile;  // @TEST_CASES@ filled from DriverTemplate
extern const std::string_view kReadme;

}  // namespace bentos::ctl::templates
