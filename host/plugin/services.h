// The host services table (bentos_host_services, driver.h) handed to every
// plugin instance's create(). Which thread may call each entry is said
// where it is defined (services.cpp).
#pragma once

#include "bentos/driver.h"

namespace bentos::plugin {

const bentos_host_services* host_services();

}  // namespace bentos::plugin
