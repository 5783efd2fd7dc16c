// The one place that includes libfuse: the lowlevel API, version 3.5
// (unsigned ioctl commands), as shipped by libfuse 3.10 and later.
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 35
#endif

#include <fuse_lowlevel.h>
