/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan: placeholder until the module lands; see plan.h. */
#include "plan.h"
