// The files `bentosctl new-driver` writes, as text with placeholders.
//
// Kept as C++ raw strings (new_driver_templates*.cpp) rather than files
// embedded by a build step: bentosctl stays one self-contained binary with
// no generator in the build, and tests/sdk/check-new-driver.sh builds and
// runs every template, so a template that stops compiling fails a test.
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
  // The `bentosctl run` ops the generated test sends, and what it expects
  // back, line by line: a check the author extends as the driver grows.
  std::string_view test_ops;
  std::string_view test_expected;
};

// The drivers: new_driver_templates_cpp.cpp and new_driver_templates_c.cpp.
std::span<const DriverTemplate> cpp_templates();
std::span<const DriverTemplate> c_templates();

// Null when that pattern has no template in that language.
const DriverTemplate* find_template(std::string_view pattern, std::string_view language);

extern const std::string_view kMakefile;
extern const std::string_view kManifest;
extern const std::string_view kTestScript;  // @OPS@ and @EXPECTED@ filled from DriverTemplate
extern const std::string_view kReadme;

}  // namespace bentos::ctl::templates
