// bentosctl's help texts: the overview and one page per command.
#pragma once

#include <string>

namespace bentos::ctl {

// `bentosctl --help`: every command with a line and examples.
extern const char kMainUsage[];

// `bentosctl COMMAND --help`; nullptr for an unknown command (the control
// commands have theirs in control.cpp).
const char* command_usage(const std::string& command);

}  // namespace bentos::ctl
