// SPDX-License-Identifier: MIT
//
// libunpriv: C++ access to the unpriv module (/dev/unpriv).
#pragma once

#include "unpriv/device.hpp"
#include "unpriv/error.hpp"
#include "unpriv/fd.hpp"
