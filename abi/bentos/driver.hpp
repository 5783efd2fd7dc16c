// being written
#pragma once
#include "bentos/driver.h"
