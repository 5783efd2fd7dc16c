// `bentosctl new-driver NAME --pattern P [--lang c|cpp] [--dir DIR]`:
// writes a driver project (source, Makefile, manifest, test, README) from
// the templates in new_driver_templates.h.
//
// main's thread only.
#pragma once

#include <string>
#include <vector>

namespace bentos::ctl {

int new_driver_command(const std::vector<std::string>& args);

// The usage page (`bentosctl new-driver --help`).
extern const char kNewDriverUsage[];

// Empty when `name` can be both a C identifier and a device name
// ([a-z][a-z0-9_]*, at most 64 characters); else what is wrong with it.
std::string check_driver_name(const std::string& name);

}  // namespace bentos::ctl
