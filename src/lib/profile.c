/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* profile: placeholder until the module lands; see profile.h. */
#include "profile.h"
